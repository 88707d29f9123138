"""The frames a street camera sends, from real photographs: the field set of issue 22.

Each scene is one photograph of ``photos/`` (sources and licences in ``photos/SOURCES.md``). A
camera looking at it sends harmless frames all day and night: day, dusk, infrared night (grey,
noisy, lamps blooming, the scene's contrast changed), headlights sweeping, rain, fog, snow, wind
shake, low-bit-rate compression and the day/night switch itself. Those are the negatives: none of
them may raise an alarm. The positives are the faults of ``tests/helpers/picture_faults.py``
made on top of the day *and* the infrared picture of the same scene.

Every harmless frame is judged with the previous frame of its own sequence, as the supervisor
judges consecutive snapshots; the switch frames with the last frame of the other regime.
Rendering is deterministic for a scene name and a seed, so a subset run gives the same frames.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import picture_faults as pf

FIELD = Path(__file__).resolve().parent
PHOTOS = FIELD / "photos"
SOURCES = PHOTOS / "SOURCES.md"
SPLIT = FIELD / "split.json"

CONDITIONS = (
    "day",
    "dusk",
    "ir",
    "headlights",
    "rain",
    "fog",
    "snow",
    "shake",
    "compression",
    "switch",
    "real rain",
    "real dusk",
)
"""The harmless conditions, in the order a benchmark reports them."""

REAL_WEATHER = {"london_rain": "real rain", "sioux_falls_storefront": "real dusk"}
"""Scenes whose photograph itself shows the weather or the hour: their day frames count under it."""

ALLOWED_LICENCES = (
    "CC0-1.0",
    "CC-BY-4.0",
    "Public-Domain",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "MIT",
    "Apache-2.0",
)
"""Licences a photograph may have to be stored here (permissive: reuse and changes allowed)."""

TUNING_SHARE = 0.6
"""About this share of the scenes goes to the tuning part, the rest is held out."""


@dataclass(frozen=True)
class Photo:
    """One row of ``SOURCES.md``."""

    file: str
    repository: str
    path: str
    commit: str
    licence: str
    credit: str
    place: str
    shows: str

    @property
    def scene(self) -> str:
        return Path(self.file).stem


@dataclass
class Frame:
    """One labelled frame and the previous one the camera sent."""

    scene: str
    label: str  # "" for a harmless frame, else the problem of ``supervision.imaging.PROBLEMS``
    condition: str  # harmless: one of CONDITIONS; a fault: the regime it was made in (day, ir)
    variant: str
    image: np.ndarray
    previous: np.ndarray
    infrared: bool = False
    """Whether the camera sent ``image`` in its infrared mode (grey): the regime it is in."""


def photos() -> list[Photo]:
    """Every photograph listed in ``SOURCES.md``, in its order."""
    rows = []
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[\w.-]+\.jpg", cells[0]):
            rows.append(Photo(*cells))
    return rows


def make_split(listed: list[Photo]) -> dict[str, list[str]]:
    """The rule of the split, by place (a street or square seen from several viewpoints).

    Places are ordered by the SHA-256 of their name (an order no one chose by looking at the
    pictures); each goes to the tuning part if the tuning part then holds at most
    ``TUNING_SHARE`` of the scenes (rounded), else it is held out. A place is never in both
    parts, so no viewpoint of a held-out street was seen while tuning. The result is written
    once to ``split.json``; the test checks that the file still follows the rule.
    """
    places: dict[str, list[str]] = {}
    for photo in listed:
        places.setdefault(photo.place, []).append(photo.scene)
    order = sorted(places, key=lambda place: hashlib.sha256(place.encode()).hexdigest())
    tuning: list[str] = []
    held_out: list[str] = []
    room = round(TUNING_SHARE * len(listed))
    for place in order:
        part = tuning if len(tuning) + len(places[place]) <= room else held_out
        part.extend(places[place])
    return {"tuning": sorted(tuning), "held_out": sorted(held_out)}


def split() -> dict[str, list[str]]:
    """The fixed split, read from ``split.json``: ``{"tuning": [...], "held_out": [...]}``."""
    data = json.loads(SPLIT.read_text(encoding="utf-8"))
    return {"tuning": list(data["tuning"]), "held_out": list(data["held_out"])}


def canvas(scene: str) -> np.ndarray:
    """The scene's canvas (BGR, ``pf.CANVAS``): its photograph cropped to 16:9, upscaled."""
    photo = cv2.imread(str(PHOTOS / f"{scene}.jpg"), cv2.IMREAD_COLOR)
    if photo is None:
        raise FileNotFoundError(PHOTOS / f"{scene}.jpg")
    return pf.photo_canvas(photo)


def scene_rng(scene: str, seed: int) -> np.random.Generator:
    """A generator fixed by the scene's name and the seed (a subset run renders the same)."""
    digest = hashlib.sha256(f"{scene}:{seed}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# Harmless conditions, rendered on the scene's light before the camera (noise, JPEG).


def dusk(frame: np.ndarray, level: float) -> np.ndarray:
    """Dusk: daylight fading to ``level``, warmer (sodium and LED street lights take over)."""
    ramp = np.arange(256, dtype=np.float32)
    lut = np.stack(
        [
            255.0 * (np.clip(ramp * tint, 0, 255) / 255.0) ** 1.15 * level
            for tint in (0.8, 0.95, 1.1)
        ],
        axis=-1,
    )
    return cv2.LUT(frame, np.clip(lut, 0, 255).astype(np.uint8).reshape(1, 256, 3))


def lamps(rng: np.random.Generator, count: int) -> np.ndarray:
    """The street lamps of a scene at night: a float32 canvas-sized light layer (0-1+).

    Small saturated discs in the upper part of the picture with a soft halo, at fixed places
    (lamps do not move), drawn on the canvas so a turned camera sees them move with the scene.
    The halos are drawn at a quarter of the size (they are smooth), the discs at full size.
    """
    width, height = pf.CANVAS
    halos = np.zeros((height // 4, width // 4), np.float32)
    discs = np.zeros((height, width), np.float32)
    for _ in range(count):
        x = int(rng.uniform(0.1, 0.9) * width)
        y = int(rng.uniform(0.15, 0.6) * height)
        radius = int(rng.uniform(6, 16))
        cv2.circle(discs, (x, y), radius, 1.5, -1, cv2.LINE_AA)
        cv2.circle(halos, (x // 4, y // 4), radius, 0.5, -1, cv2.LINE_AA)
    halos = cv2.GaussianBlur(halos, (0, 0), 4)
    return discs + cv2.resize(halos, (width, height), interpolation=cv2.INTER_LINEAR)


def infrared_canvas(canvas_bgr: np.ndarray) -> np.ndarray:
    """The scene as an IR camera sees it, before light level and noise: float32 grey canvas.

    Near infrared changes the scene's contrast: foliage reflects it strongly (bright trees), a
    blue sky is dark, red surfaces come out lighter than in the visible.
    """
    b, g, r = (channel.astype(np.float32) for channel in cv2.split(canvas_bgr))
    grey = 0.15 * b + 0.35 * g + 0.5 * r
    foliage = np.clip(g - np.maximum(r, b), 0, None)
    sky = np.clip(b - np.maximum(r, g), 0, None)
    return np.clip(grey + 2.5 * foliage - 1.5 * sky, 0, 255)


def _falloff() -> np.ndarray:
    """The IR illuminator's light: full in the centre of the view, about half in the corners."""
    width, height = pf.FRAME
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot((xx - width / 2) / (width / 2), (yy - height / 2) / (height / 2))
    return (1.0 - 0.35 * distance**2).astype(np.float32)


_FALLOFF: np.ndarray | None = None


def infrared(
    ir_canvas: np.ndarray,
    lamp_layer: np.ndarray,
    *,
    level: float = 0.45,
    dx: float = 0.0,
    dy: float = 0.0,
    angle: float = 0.0,
) -> np.ndarray:
    """The infrared night view (BGR, grey): dim, lit by the illuminator, softer, lamps blooming.

    Noise is added by the camera (``pf.camera`` with a night ``sigma``), as the sensor does.
    """
    global _FALLOFF  # noqa: PLW0603 (computed once, reused for every frame)
    if _FALLOFF is None:
        _FALLOFF = _falloff()
    scene_view = pf.view(ir_canvas, dx=dx, dy=dy, angle=angle)
    lamp_view = pf.view(lamp_layer, dx=dx, dy=dy, angle=angle)
    grey = cv2.GaussianBlur(scene_view, (0, 0), 1.0) * (level * _FALLOFF) + 8.0
    grey = np.clip(grey + lamp_view * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def headlights(frame: np.ndarray, position: float, *, strength: float = 1.0) -> np.ndarray:
    """A car passing: two headlights and their beam on the road, ``position`` 0-1 across.

    The lamps themselves saturate (a few percent of the picture), the beam lifts the road ahead.
    Beam and halos are smooth, so they are drawn at a quarter of the size and upscaled.
    """
    width, height = pf.FRAME
    x = -0.1 * width + position * 1.2 * width
    y = 0.78 * height
    small = np.zeros((height // 4, width // 4), np.float32)
    beam = np.array(
        [[x, y], [x + 0.45 * width, y - 40], [x + 0.5 * width, height - 1], [x, y + 60]]
    )
    cv2.fillPoly(small, [np.round(beam / 4).astype(np.int32)], 0.45 * strength, cv2.LINE_AA)
    small = cv2.GaussianBlur(small, (0, 0), 10)
    halo = np.zeros_like(small)
    for offset in (0, 110):
        cv2.circle(halo, (round((x + offset) / 4), round(y / 4)), 22, 0.6 * strength, -1)
    small += cv2.GaussianBlur(halo, (0, 0), 9)
    light = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    for offset in (0, 110):
        cv2.circle(light, (round(x + offset), round(y)), 26, 1.6 * strength, -1, cv2.LINE_AA)
    lifted = frame.astype(np.float32) + light[:, :, None] * 255.0
    return np.clip(lifted, 0, 255).astype(np.uint8)


def rain(
    frame: np.ndarray, rng: np.random.Generator, *, heavy: bool, lit: bool = False
) -> np.ndarray:
    """Rain: a softer and flatter picture with bright slanted streaks; by day under overcast
    light, at night (``lit``) with the drops near the lens lit by the IR illuminator."""
    dull = (frame if lit else pf.light(frame, 0.75, 1.1)).astype(np.float32)
    dull = cv2.GaussianBlur(dull, (0, 0), 2.0 if heavy else 1.2)
    mean = float(dull.mean())
    dull = mean + (dull - mean) * (0.75 if heavy else 0.85)
    width, height = pf.FRAME
    streaks = np.zeros((height, width), np.float32)
    count = 2500 if heavy else 900
    xs = rng.uniform(0, width, count)
    ys = rng.uniform(0, height, count)
    lengths = rng.uniform(20, 60, count)
    slant = np.deg2rad(rng.normal(12, 3))
    for x, y, length in zip(xs, ys, lengths, strict=True):
        end = (int(x + length * np.sin(slant)), int(y + length * np.cos(slant)))
        brightness = rng.uniform(60, 120) if lit else rng.uniform(25, 60)
        cv2.line(streaks, (int(x), int(y)), end, float(brightness), 1, cv2.LINE_AA)
    streaks = cv2.GaussianBlur(streaks, (0, 0), 0.8)
    return np.clip(dull + streaks[:, :, None], 0, 255).astype(np.uint8)


def fog(frame: np.ndarray, density: float) -> np.ndarray:
    """Fog: a grey veil thicker with distance (the top of a street view is farther away).

    Koschmieder's law, I = J t + A (1 - t), with t = exp(-density x depth), depth from 0.3 at the
    bottom to 1 at the top of the picture; scattering also softens the picture a little.
    """
    height = pf.FRAME[1]
    depth = np.linspace(1.0, 0.3, height, dtype=np.float32)[:, None, None]
    transmission = np.exp(-density * depth)
    airlight = 205.0
    soft = cv2.GaussianBlur(frame, (0, 0), 1.5).astype(np.float32)
    veiled = soft * transmission + airlight * (1.0 - transmission)
    return np.clip(veiled, 0, 255).astype(np.uint8)


def snow(frame: np.ndarray, rng: np.random.Generator, *, covered: bool) -> np.ndarray:
    """Snow: a whiter, flatter scene (snow on the ground when ``covered``) and falling flakes."""
    picture = frame.astype(np.float32)
    if covered:
        width, height = pf.FRAME
        ground = np.linspace(0.0, 1.0, height, dtype=np.float32) ** 2
        picture = picture * (1 - 0.6 * ground[:, None, None]) + 230.0 * 0.6 * ground[:, None, None]
    picture = picture * 0.8 + 45.0
    width, height = pf.FRAME
    flakes = np.zeros((height, width), np.float32)
    count = 3000
    for x, y, radius in zip(
        rng.uniform(0, width, count),
        rng.uniform(0, height, count),
        rng.choice([1, 1, 2, 2, 3, 5], count),
        strict=True,
    ):
        cv2.circle(flakes, (int(x), int(y)), int(radius), float(rng.uniform(60, 140)), -1)
    flakes = cv2.GaussianBlur(flakes, (0, 0), 1.0)
    return np.clip(picture + flakes[:, :, None], 0, 255).astype(np.uint8)


def shaken(canvas_bgr: np.ndarray, dx: float, dy: float, angle: float) -> np.ndarray:
    """Wind shaking the mast: the view shifted and rolled a little, smeared along the motion."""
    frame = pf.view(canvas_bgr, dx=dx, dy=dy, angle=angle)
    size = 2 * int(max(abs(dx), abs(dy)) // 2) + 1  # the smear spans half the shift each way
    if size < 3:
        return frame
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    half = (dx / max(abs(dx), abs(dy)) * centre, dy / max(abs(dx), abs(dy)) * centre)
    start = (round(centre - half[0]), round(centre - half[1]))
    end = (round(centre + half[0]), round(centre + half[1]))
    cv2.line(kernel, start, end, 1.0)
    kernel /= kernel.sum()
    return cv2.filter2D(frame, -1, kernel)


# The frames of one scene.

DAY = {"sigma": 2.0, "quality": 80}
"""A camera's daytime picture: little read noise, a usual JPEG quality."""
NIGHT = {"sigma": 8.0, "quality": 80, "mono": True}
"""The same camera at night: gain up, strong noise, a monochrome picture."""


def capture(
    frame: np.ndarray,
    rng: np.random.Generator,
    *,
    sigma: float = 2.0,
    quality: int = 80,
    mono: bool = False,
) -> np.ndarray:
    """What the camera sends of ``frame``: noise then JPEG (``pf.camera``); in its infrared mode
    (``mono``) the picture is grey, noise included, as the camera drops the colour."""
    if not mono:
        return pf.camera(frame, rng, sigma=sigma, quality=quality)
    grey = pf.sensor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), rng, sigma)
    return pf.jpeg(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), quality)


def reference_shots(scene: str, seed: int = 7) -> list[np.ndarray]:
    """Three healthy day snapshots of the scene: what the supervisor learns its reference from."""
    rng = scene_rng(scene, seed + 1)
    base = pf.view(canvas(scene))
    return [capture(base, rng, **DAY) for _ in range(3)]


def _sequence(
    name: str,
    condition: str,
    variants: list[tuple[str, Callable[[], np.ndarray], dict[str, float]]],
    rng: np.random.Generator,
) -> Iterator[Frame]:
    """Consecutive harmless frames: the first variant warms the sequence up (not judged), each
    next frame is judged with the one before it."""
    previous: np.ndarray | None = None
    for variant, render, camera in variants:
        image = capture(render(), rng, **camera)
        if previous is not None:
            infrared = bool(camera.get("mono", False))
            yield Frame(name, "", condition, variant, image, previous, infrared)
        previous = image


def harmless(name: str, seed: int = 7) -> Iterator[Frame]:
    """Every harmless frame of the scene, sequence after sequence."""
    rng = scene_rng(name, seed)
    scene_canvas = canvas(name)
    base = pf.view(scene_canvas)
    ir_canvas = infrared_canvas(scene_canvas)
    lamp_layer = lamps(scene_rng(name, seed + 2), int(rng.integers(3, 7)))

    def night(level: float = 0.45) -> np.ndarray:
        return infrared(ir_canvas, lamp_layer, level=level)

    day_frames = [
        ("warm-up", lambda: base, DAY),
        ("day", lambda: base, DAY),
        ("exposure x0.95", lambda: pf.light(base, 0.95), DAY),
        ("exposure x1.05", lambda: pf.light(base, 1.05), DAY),
        ("day q60", lambda: base, {"sigma": 2.0, "quality": 60}),
    ]
    yield from _sequence(name, REAL_WEATHER.get(name, "day"), day_frames, rng)
    dusk_frames = [
        ("warm-up", lambda: dusk(base, 0.6), {"sigma": 3.0, "quality": 80}),
        ("dusk 0.45", lambda: dusk(base, 0.45), {"sigma": 4.0, "quality": 80}),
        ("dusk 0.3", lambda: dusk(base, 0.3), {"sigma": 6.0, "quality": 80}),
        ("dusk 0.2", lambda: dusk(base, 0.2), {"sigma": 8.0, "quality": 80}),
    ]
    yield from _sequence(name, "dusk", dusk_frames, rng)
    ir_frames = [
        ("warm-up", lambda: night(0.45), NIGHT),
        ("ir 0.45", lambda: night(0.45), NIGHT),
        ("ir 0.35", lambda: night(0.35), {"sigma": 10.0, "quality": 80, "mono": True}),
        ("ir 0.55", lambda: night(0.55), NIGHT),
        ("ir 0.45 q50", lambda: night(0.45), {**NIGHT, "quality": 50}),
    ]
    yield from _sequence(name, "ir", ir_frames, rng)
    sweep = [
        (f"ir headlights at {p:.0%}", (lambda p=p: headlights(night(), p)), NIGHT)
        for p in (0.0, 0.2, 0.4, 0.6, 0.8)
    ]
    yield from _sequence(name, "headlights", [("warm-up", night, NIGHT), *sweep], rng)
    dusk_sweep = [
        (
            f"dusk headlights at {p:.0%}",
            (lambda p=p: headlights(dusk(base, 0.3), p, strength=0.8)),
            {"sigma": 6.0, "quality": 80},
        )
        for p in (0.1, 0.5)
    ]
    yield from _sequence(
        name,
        "headlights",
        [("warm-up", lambda: dusk(base, 0.3), {"sigma": 6.0, "quality": 80}), *dusk_sweep],
        rng,
    )
    rain_frames = [
        ("warm-up", lambda: rain(base, rng, heavy=False), DAY),
        ("light rain", lambda: rain(base, rng, heavy=False), DAY),
        ("heavy rain", lambda: rain(base, rng, heavy=True), DAY),
        ("heavy rain again", lambda: rain(base, rng, heavy=True), DAY),
    ]
    yield from _sequence(name, "rain", rain_frames, rng)
    night_rain = [
        ("warm-up", night, NIGHT),
        ("ir rain", lambda: rain(night(), rng, heavy=True, lit=True), NIGHT),
    ]
    yield from _sequence(name, "rain", night_rain, rng)
    fog_frames = [
        ("warm-up", lambda: fog(base, 0.4), DAY),
        ("light fog", lambda: fog(base, 0.6), DAY),
        ("dense fog", lambda: fog(base, 1.2), DAY),
        ("ir fog", lambda: fog(night(), 0.8), NIGHT),
    ]
    yield from _sequence(name, "fog", fog_frames, rng)
    snow_frames = [
        ("warm-up", lambda: snow(base, rng, covered=False), DAY),
        ("falling snow", lambda: snow(base, rng, covered=False), DAY),
        ("snow on the ground", lambda: snow(base, rng, covered=True), DAY),
        ("ir snow", lambda: snow(night(), rng, covered=True), NIGHT),
    ]
    yield from _sequence(name, "snow", snow_frames, rng)
    shake_frames = [
        ("warm-up", lambda: base, DAY),
        ("shake 3,0 px", lambda: shaken(scene_canvas, 3, 0, 0.0), DAY),
        ("shake -2,3 px 0.3 deg", lambda: shaken(scene_canvas, -2, 3, 0.3), DAY),
        ("shake 5,-2 px -0.4 deg", lambda: shaken(scene_canvas, 5, -2, -0.4), DAY),
        ("ir shake 4,2 px", lambda: infrared(ir_canvas, lamp_layer, dx=4, dy=2), NIGHT),
    ]
    yield from _sequence(name, "shake", shake_frames, rng)
    compression_frames = [
        ("warm-up", lambda: base, {"sigma": 2.0, "quality": 30}),
        ("jpeg q30", lambda: base, {"sigma": 2.0, "quality": 30}),
        ("jpeg q20", lambda: base, {"sigma": 2.0, "quality": 20}),
        ("jpeg q15", lambda: base, {"sigma": 2.0, "quality": 15}),
        ("ir jpeg q20", night, {**NIGHT, "quality": 20}),
    ]
    yield from _sequence(name, "compression", compression_frames, rng)
    # The switch itself: each frame judged with the last one of the other regime.
    switch_frames = [
        ("warm-up (day)", lambda: base, DAY),
        ("day -> ir", night, NIGHT),
        ("ir -> day", lambda: base, DAY),
        ("dusk", lambda: dusk(base, 0.25), {"sigma": 7.0, "quality": 80}),
        ("dusk -> ir", lambda: night(0.4), NIGHT),
        ("ir -> dawn", lambda: dusk(base, 0.35), {"sigma": 5.0, "quality": 80}),
    ]
    for frame in _sequence(name, "switch", switch_frames, rng):
        if "->" in frame.variant:
            yield frame
        else:
            frame.condition = "dusk"
            yield frame


def faults(name: str, seed: int = 7) -> Iterator[Frame]:
    """Every fault frame of the scene, made on the day and on the infrared picture."""
    rng = scene_rng(name, seed + 3)
    scene_canvas = canvas(name)
    ir_canvas = infrared_canvas(scene_canvas)
    lamp_layer = lamps(scene_rng(name, seed + 2), int(scene_rng(name, seed).integers(3, 7)))
    px = pf.PX_PER_DEGREE

    for level in (0, 16):
        yield Frame(
            name,
            "video_loss",
            "day",
            f"black {level}",
            pf.black(rng, level),
            capture(pf.view(scene_canvas), rng, **DAY),
        )
    yield Frame(
        name,
        "video_loss",
        "day",
        "blue screen",
        pf.jpeg(pf.blue_screen(), 80),
        capture(pf.view(scene_canvas), rng, **DAY),
    )
    yield Frame(
        name,
        "video_loss",
        "ir",
        "colour bars",
        pf.jpeg(pf.colour_bars(), 80),
        capture(infrared(ir_canvas, lamp_layer), rng, **NIGHT),
    )

    regimes: list[tuple[str, Callable[..., np.ndarray], dict[str, float]]] = [
        ("day", lambda **kw: pf.view(scene_canvas, **kw), DAY),
        ("ir", lambda **kw: infrared(ir_canvas, lamp_layer, **kw), NIGHT),
    ]
    for regime, render, camera in regimes:
        base = render()
        previous = capture(base, rng, **camera)

        def live(frame: np.ndarray, camera: dict[str, float] = camera) -> np.ndarray:
            return capture(frame, rng, **camera)  # IR: grey, a coloured sticker included

        shot = live(base)
        ir = regime == "ir"
        yield Frame(name, "frozen", regime, "bit-identical", shot, shot.copy(), ir)
        yield Frame(name, "frozen", regime, "re-encoded q80", pf.jpeg(shot, 80), shot, ir)
        for sigma in (8.0, 12.0, 16.0, 24.0):
            yield Frame(
                name,
                "blurred",
                regime,
                f"blur sigma {sigma}",
                live(pf.blurred(base, sigma)),
                previous,
                ir,
            )
        for kind in ("sticker", "bag", "spray"):
            for area in (0.5, 0.7, 0.95):
                yield Frame(
                    name,
                    "covered",
                    regime,
                    f"{kind} {area:.0%}",
                    live(pf.covered(base, rng, kind, area)),
                    previous,
                    ir,
                )
        moves = [
            ("pan 4 deg", {"dx": 4 * px}),
            ("pan 7 deg", {"dx": 7 * px}),
            ("pan 10 deg", {"dx": -10 * px}),
            ("tilt 5 deg", {"dy": -5 * px}),
            ("pan 6 deg + roll 3 deg", {"dx": -6 * px, "angle": 3.0}),
        ]
        for variant, move in moves:
            yield Frame(name, "displaced", regime, variant, live(render(**move)), previous, ir)
        for area in (0.3, 0.45, 0.6):
            yield Frame(
                name,
                "glare",
                regime,
                f"glare {area:.0%}",
                live(pf.glare(base, rng, area)),
                previous,
                ir,
            )


def frames(name: str, seed: int = 7) -> Iterator[Frame]:
    """Every labelled frame of the scene: the harmless sequences, then the faults."""
    yield from harmless(name, seed)
    yield from faults(name, seed)
