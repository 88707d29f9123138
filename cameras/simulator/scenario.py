"""Faults of the virtual cameras: the scenario file read at start, and one fault's parameters.

A scenario is YAML (and so JSON too, which is YAML): credentials, then a list of rules, each
naming the cameras it applies to (an index, ``"10-19"``, or a list of both) and one fault::

    username: admin
    password: vigie-sim
    faults:
      - {cameras: 0, kind: offline}
      - {cameras: "10-19", kind: slow, delay_s: 2.5}
      - {cameras: [3, 7], kind: clock_drift, seconds: 3600}
      - {cameras: 42, kind: flapping, period_s: 20}
    personalities:                      # real vendors' replies and quirks (default: bosch)
      - {cameras: "0-9", personality: hikvision}

The control API takes the same fault objects (without ``cameras``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cameras.errors import ScenarioError
from cameras.picture_faults import PictureFault
from cameras.simulator.personalities import personality

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "vigie-sim"  # noqa: S105 -- the simulator's documented demo credential


class FaultKind(StrEnum):
    """Everything that can go wrong with a virtual camera."""

    offline = "offline"  # port closed: connection refused
    hang = "hang"  # accepts, reads the request, never answers
    slow = "slow"  # answers after delay_s
    auth_failure = "auth_failure"  # refuses every credential (NotAuthorized, HTTP 401)
    soap_fault = "soap_fault"  # answers every SOAP request with a Receiver fault
    garbage = "garbage"  # answers random bytes with HTTP 200
    hostile_xml = "hostile_xml"  # answers an XML attack (variant)
    clock_drift = "clock_drift"  # its clock is off by `seconds`
    basic_auth = "basic_auth"  # old firmware: snapshot behind HTTP basic, not digest
    flapping = "flapping"  # up period_s, down period_s, and so on
    ptz_moved = "ptz_moved"  # an operator turned its PTZ head to pan, tilt, zoom (PTZ cameras)
    storage_failure = "storage_failure"  # its SD card failed (told only by its events)
    recording_stopped = "recording_stopped"  # its edge recording job turned Idle (Profile G)
    storage_failed = "storage_failed"  # its recording job in Error, blaming the SD card (Profile G)
    rekeyed = "rekeyed"  # an HTTPS camera presents a new certificate (re-keyed, or an impostor)
    sensor_loss = "sensor_loss"  # one sensor of a multi-sensor camera is dead (black)
    video_loss = "video_loss"
    frozen = "frozen"
    blurred = "blurred"
    covered = "covered"
    displaced = "displaced"
    glare = "glare"

    @property
    def picture(self) -> PictureFault | None:
        """The picture fault this is, if it is one."""
        return PictureFault(self.value) if self.value in PictureFault.__members__ else None


class HostileVariant(StrEnum):
    """The XML attacks a hostile camera answers with."""

    billion_laughs = "billion_laughs"
    xxe = "xxe"
    deep_nesting = "deep_nesting"
    huge_text = "huge_text"


class Fault(BaseModel):
    """One fault and its parameters (each parameter matters only for its kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    delay_s: Annotated[
        float, Field(gt=0, le=3600, description="slow: seconds before answering")
    ] = 3.0
    seconds: Annotated[float, Field(ge=-10 * 365 * 86400, le=10 * 365 * 86400)] = 0.0
    period_s: Annotated[float, Field(gt=0, le=86400, description="flapping: half-period")] = 10.0
    variant: HostileVariant = HostileVariant.billion_laughs
    pan: Annotated[float, Field(ge=-1, le=1, description="ptz_moved: generic space")] = 0.5
    tilt: Annotated[float, Field(ge=-1, le=1, description="ptz_moved: generic space")] = 0.0
    zoom: Annotated[float, Field(ge=0, le=1, description="ptz_moved: generic space")] = 0.0
    sensor: Annotated[int, Field(ge=2, le=8, description="sensor_loss: which sensor")] = 2

    def describe(self) -> str:
        """Short text for the console and the control API."""
        extra = {
            FaultKind.slow: f" {self.delay_s:g} s",
            FaultKind.clock_drift: f" {self.seconds:+g} s",
            FaultKind.flapping: f" every {self.period_s:g} s",
            FaultKind.hostile_xml: f" {self.variant}",
            FaultKind.ptz_moved: f" pan {self.pan:g} tilt {self.tilt:g} zoom {self.zoom:g}",
            FaultKind.sensor_loss: f" sensor {self.sensor}",
        }.get(self.kind, "")
        return f"{self.kind}{extra}"


class CameraRule(BaseModel):
    """The cameras a rule of the scenario applies to: an index, a range or a list of both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cameras: int | str | list[int | str]

    @field_validator("cameras")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            parse_selector(item)
        return value

    def indices(self) -> list[int]:
        """The camera indices the rule names."""
        items = self.cameras if isinstance(self.cameras, list) else [self.cameras]
        out: list[int] = []
        for item in items:
            first, last = parse_selector(item)
            out.extend(range(first, last + 1))
        return out


class FaultRule(Fault, CameraRule):
    """A fault and the cameras it applies to."""


class ResolutionRule(CameraRule):
    """The main profile's picture size the cameras named report (default: the recorded
    camera's 1920x1080), so that a simulated inventory matches its catalogue models."""

    resolution: Annotated[str, Field(pattern=r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")]

    def size(self) -> tuple[int, int]:
        width, height = self.resolution.split("x")
        return int(width), int(height)


class PersonalityRule(CameraRule):
    """The vendor personality the cameras named play (``vigie simulate --personality`` sets
    the others'): a real camera's captured replies and quirks (README: Cameras we supervise)."""

    personality: Annotated[str, Field(min_length=1, max_length=40)]


def parse_selector(item: int | str) -> tuple[int, int]:
    """``5`` or ``"5"`` -> (5, 5); ``"10-19"`` -> (10, 19)."""
    if isinstance(item, int):
        if item < 0:
            raise ValueError(f"camera index {item} is negative")
        return item, item
    text = item.strip()
    first, sep, last = text.partition("-")
    try:
        low, high = int(first), int(last) if sep else int(first)
    except ValueError:
        raise ValueError(f"{item!r} is not a camera index or a range like '10-19'") from None
    if low < 0 or high < low:
        raise ValueError(f"{item!r} is not a range of camera indices (first <= last, >= 0)")
    return low, high


class Scenario(BaseModel):
    """Credentials of every virtual camera, and the faults at start."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(DEFAULT_USERNAME, min_length=1, max_length=64)
    password: str = Field(DEFAULT_PASSWORD, min_length=1, max_length=128)
    faults: list[FaultRule] = Field(default_factory=list)
    resolutions: list[ResolutionRule] = Field(default_factory=list)
    personalities: list[PersonalityRule] = Field(default_factory=list)
    tls: list[CameraRule] = Field(default_factory=list)
    """Cameras that serve HTTPS (each with its own self-signed certificate) instead of HTTP."""

    def tls_cameras(self, cameras: int, *, source: str = "scenario") -> set[int]:
        """The cameras serving HTTPS; a camera beyond ``cameras`` is an error."""
        return {index for _, index in _each_camera(self.tls, "tls", cameras, source)}

    def personality_by_camera(self, cameras: int, *, source: str = "scenario") -> dict[int, str]:
        """Each named camera's personality; an unknown one or a camera beyond is an error."""
        for number, rule in enumerate(self.personalities):
            try:
                personality(rule.personality)
            except ScenarioError as error:
                raise ScenarioError(f"{source}: personalities[{number}]: {error}") from None
        return {
            index: rule.personality
            for rule, index in _each_camera(self.personalities, "personalities", cameras, source)
        }

    def resolution_by_camera(
        self, cameras: int, *, source: str = "scenario"
    ) -> dict[int, tuple[int, int]]:
        """Each named camera's main-profile size; a camera beyond ``cameras`` is an error."""
        return {
            index: rule.size()
            for rule, index in _each_camera(self.resolutions, "resolutions", cameras, source)
        }

    def faults_by_camera(self, cameras: int, *, source: str = "scenario") -> dict[int, list[Fault]]:
        """Each camera's faults; every rule naming a camera beyond ``cameras`` is an error."""
        out: dict[int, list[Fault]] = defaultdict(list)
        problems = []
        for number, rule in enumerate(self.faults):
            indices = rule.indices()
            beyond = [i for i in indices if i >= cameras]
            if beyond:
                problems.append(
                    f"{source}: faults[{number}] ({rule.kind}): camera {beyond[0]} does not "
                    f"exist (cameras are 0-{cameras - 1})"
                )
                continue
            fault = Fault(**rule.model_dump(exclude={"cameras"}))
            for index in indices:
                out[index].append(fault)
        if problems:
            raise ScenarioError("; ".join(problems))
        return dict(out)


RuleT = TypeVar("RuleT", bound=CameraRule)


def _each_camera(
    rules: list[RuleT], label: str, cameras: int, source: str
) -> Iterator[tuple[RuleT, int]]:
    """Each rule with each camera it names, in order (a later rule wins where a dict is built);
    the first camera beyond ``cameras`` is an error naming the rule."""
    for number, rule in enumerate(rules):
        for index in rule.indices():
            if index >= cameras:
                raise ScenarioError(
                    f"{source}: {label}[{number}]: camera {index} does not exist "
                    f"(cameras are 0-{cameras - 1})"
                )
            yield rule, index


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; every problem is reported with the file and the rule."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not YAML or JSON: {error}") from error
    return parse_scenario(data or {}, source=str(path))


def parse_scenario(data: Any, *, source: str) -> Scenario:
    """A scenario from already-parsed data (``source`` names it in errors)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {validation_message(error)}") from error


def parse_fault(data: Any, *, source: str) -> Fault:
    """One fault from the control API's JSON."""
    try:
        return Fault.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {validation_message(error)}") from error


def validation_message(error: ValidationError) -> str:
    """Every problem of a pydantic error on one line: ``faults.2.kind: Input should be ...``."""
    parts = []
    for problem in error.errors():
        location = ".".join(str(p) for p in problem["loc"]) or "document"
        parts.append(f"{location}: {problem['msg']}")
    return "; ".join(parts)
