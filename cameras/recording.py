"""ONVIF Profile G without zeep: what a camera recording at the edge says of its recordings.

Three calls answer "is the evidence being kept?": the Search service's GetRecordingSummary
(the span of what is stored: ``DataFrom`` .. ``DataUntil``), the Recording service's
GetRecordingJobs (each job's configured ``Mode``, Active or Idle) and GetRecordingJobState
(what a job actually does: Active, PartiallyActive, Idle or Error, with each track's state and
error text). Readers tolerate what real firmwares do (``captures/axis-unknown-model``): missing
elements, vendor extensions, empty texts; an unreadable date counts as absent rather than
making the whole reply unusable, since the other answers still tell a stopped recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import isodate
from lxml import etree

from cameras import soap

__all__ = [
    "RECORDING",
    "SEARCH",
    "RecordingJob",
    "RecordingStatus",
    "RecordingSummary",
    "job_state",
    "job_state_body",
    "jobs",
    "summary",
]

RECORDING = "http://www.onvif.org/ver10/recording/wsdl"
SEARCH = "http://www.onvif.org/ver10/search/wsdl"


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """GetRecordingSummary: the span of everything the camera stores (None: not said)."""

    data_from: datetime | None
    data_until: datetime | None
    """The latest moment any recording holds data for, on the camera's clock (aware UTC)."""
    recordings: int | None


@dataclass(frozen=True, slots=True)
class RecordingJob:
    """One recording job: its configuration and, where the camera tells, its actual state."""

    token: str
    recording: str
    mode: str
    """Configured: ``Active`` or ``Idle`` (as the camera wrote it)."""
    state: str | None = None
    """Actual (GetRecordingJobState): ``Active``, ``PartiallyActive``, ``Idle``, ``Error``."""
    track_states: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    """Error texts of the job and its tracks, as the firmware wrote them."""


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """What a Profile G camera said of its recordings in one check."""

    summary: RecordingSummary | None
    """None: the camera has no usable Search service."""
    jobs: tuple[RecordingJob, ...]


def summary(answer: etree._Element) -> RecordingSummary:
    """GetRecordingSummaryResponse; a reply without ``Summary`` is unusable."""
    found = soap.child(answer, "Summary")
    return RecordingSummary(
        data_from=_datetime(soap.text(found, "DataFrom")),
        data_until=_datetime(soap.text(found, "DataUntil")),
        recordings=_count(soap.text(found, "NumberRecordings")),
    )


def jobs(answer: etree._Element) -> list[RecordingJob]:
    """GetRecordingJobsResponse's jobs, in the camera's order."""
    found = []
    for item in answer.iterfind("{*}JobItem"):
        configuration = soap.optional(item, "JobConfiguration")
        found.append(
            RecordingJob(
                token=soap.text(item, "JobToken"),
                recording=soap.text(configuration, "RecordingToken"),
                mode=soap.text(configuration, "Mode"),
            )
        )
    return found


def job_state_body(job_token: str) -> str:
    """GetRecordingJobState's child: the job token."""
    return f"<ns0:JobToken>{escape(job_token)}</ns0:JobToken>"


def job_state(answer: etree._Element) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """GetRecordingJobStateResponse: the job's state, its tracks' states and every error text."""
    state = soap.child(answer, "State")
    track_states = []
    errors = []
    for element in state.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        text = (element.text or "").strip()
        if name == "Error" and text:
            errors.append(text)
        elif name == "State" and element.getparent() is not state and text:
            track_states.append(text)
    return soap.text(state, "State"), tuple(track_states), tuple(errors)


def _datetime(raw: str) -> datetime | None:
    """An ``xs:dateTime``; a time without zone is taken as UTC (ONVIF's clocks are UTC)."""
    if not raw:
        return None
    try:
        when = isodate.parse_datetime(raw)
    except (ValueError, isodate.ISO8601Error):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _count(raw: str) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
