"""One decoding of a JPEG snapshot into its brightness and its colour.

A full check needs a snapshot's grey (``assess`` measures brightness only) and its colour (the
lighting regime, :mod:`supervision.regime`). OpenCV gives them in two decodings, each paying
the JPEG's entropy decoding again: 6.8 ms of CPU for a 1920x1080 snapshot on the reference
machine, where the grey alone takes 3.7 (all a check decoded before issue 22). libjpeg-turbo's
TurboJPEG API decodes a JPEG once into its own planes, the luma at full size (the same values
as OpenCV's grey decoding, which is that plane) and the two chroma planes at their coded size,
without colour conversion or upsampling: 4.9 ms for both
(``benchmarks/supervision/full_check_cost.py``).

TurboJPEG is a C library (Debian ``libturbojpeg0``, installed by ``scripts/system-packages``
and the Docker image), called here through ``ctypes``. Without it, or for a JPEG it will not
decode into planes (RGB or CMYK coded, an unusual sampling, a warning such as a cut file),
:func:`decode` falls back to OpenCV's two decodings, which judge the same picture the same way
at the old cost. :func:`backend` says which is in use (``vigie doctor`` shows it).

A snapshot is untrusted input: progressive JPEGs are limited to libjpeg-turbo's 500 scans
(``TJFLAG_LIMITSCANS``, against a file made to take minutes) and a picture over
:data:`MAX_PIXELS` is not decoded at all (without TurboJPEG, OpenCV's own limit, 2^30 pixels,
applies).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

import cv2
import numpy as np

from supervision.regime import plane_chroma, snapshot_chroma

log = logging.getLogger(__name__)

MAX_PIXELS = 1 << 26
"""Largest picture decoded (67 Mpixels, twice an 8K frame): a header claiming more is refused
before anything is allocated (a camera's snapshot is at most a few Mpixels)."""

_TJCS_YCBCR = 1
_TJCS_GRAY = 2
_TJSAMP_GRAY = 3
_TJFLAG_STOPONWARNING = 8192
_TJFLAG_LIMITSCANS = 32768
_FLAGS = _TJFLAG_STOPONWARNING | _TJFLAG_LIMITSCANS


class _TurboJpeg:
    """The few TurboJPEG 2 functions used (also exported, unchanged, by libjpeg-turbo 3)."""

    def __init__(self, library: ctypes.CDLL) -> None:
        int_p = ctypes.POINTER(ctypes.c_int)
        self.init = library.tjInitDecompress
        self.init.argtypes = []
        self.init.restype = ctypes.c_void_p
        self.destroy = library.tjDestroy
        self.destroy.argtypes = [ctypes.c_void_p]
        self.destroy.restype = ctypes.c_int
        self.header = library.tjDecompressHeader3
        self.header.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            int_p,
            int_p,
            int_p,
            int_p,
        ]
        self.header.restype = ctypes.c_int
        self.planes = library.tjDecompressToYUVPlanes
        self.planes.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            int_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        self.planes.restype = ctypes.c_int
        for name in ("tjPlaneWidth", "tjPlaneHeight"):
            function = getattr(library, name)
            function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            function.restype = ctypes.c_int
        self.plane_width = library.tjPlaneWidth
        self.plane_height = library.tjPlaneHeight
        self.error = library.tjGetErrorStr2
        self.error.argtypes = [ctypes.c_void_p]
        self.error.restype = ctypes.c_char_p


@functools.cache
def _turbojpeg() -> _TurboJpeg | None:
    """The system's TurboJPEG, loaded once per process; ``None`` (said once, in the log) when
    it is not installed."""
    name = ctypes.util.find_library("turbojpeg")
    try:
        library = _TurboJpeg(ctypes.CDLL(name or "libturbojpeg.so.0"))
    except (OSError, AttributeError) as error:
        log.warning(
            "libturbojpeg not usable (%s): snapshots are decoded twice by OpenCV, grey then "
            "colour (install Debian's libturbojpeg0 for one decoding)",
            error,
        )
        return None
    log.info("snapshots decoded by libturbojpeg (%s)", name or "libturbojpeg.so.0")
    return library


def backend() -> str:
    """``"libturbojpeg"`` when snapshots are decoded once, ``"opencv"`` when twice."""
    return "libturbojpeg" if _turbojpeg() is not None else "opencv"


def decode(content: bytes) -> tuple[np.ndarray | None, float | None]:
    """The snapshot's grey (H x W ``uint8``, its luma at full size) and its mean chroma
    (:func:`supervision.regime.chroma`'s measure, 0 for a grey JPEG); ``(None, None)`` when it
    does not decode (the camera's fault)."""
    if not content:
        return None, None
    library = _turbojpeg()
    if library is not None:
        decoded = _decode_planes(library, content)
        if decoded is _REFUSED:
            return None, None
        if decoded is not None:
            return decoded
    return decode_twice(content)


def decode_twice(content: bytes) -> tuple[np.ndarray | None, float | None]:
    """OpenCV's grey decoding, then its colour decoding at an eighth of the size: the fallback,
    and the baseline the benchmarks measure against."""
    if not content:
        return None, None
    picture = cv2.imdecode(np.frombuffer(content, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if picture is None or not picture.size:
        return None, None
    return picture, snapshot_chroma(content)


_REFUSED = object()
"""What :func:`_decode_planes` gives for a picture too large to decode by any means."""


def _decode_planes(library: _TurboJpeg, content: bytes) -> tuple[np.ndarray, float] | object:
    """One TurboJPEG decoding into planes; ``None`` when OpenCV should decide (not a YCbCr or
    grey JPEG, a sampling TurboJPEG cannot name, any warning or error), :data:`_REFUSED` for a
    picture over :data:`MAX_PIXELS`."""
    handle = library.init()
    if not handle:
        return None
    try:
        header = _header(library, handle, content)
        if header is None or header is _REFUSED:
            return header
        w, h, sampling = header
        planes = [
            np.empty(
                (library.plane_height(c, h, sampling), library.plane_width(c, w, sampling)),
                np.uint8,
            )
            for c in range(1 if sampling == _TJSAMP_GRAY else 3)
        ]
        if any(plane.size <= 0 for plane in planes):
            return None
        pointers = (ctypes.c_void_p * 3)(*(plane.ctypes.data for plane in planes))
        if library.planes(handle, content, len(content), pointers, w, None, h, _FLAGS):
            log.debug("libturbojpeg: %s", (library.error(handle) or b"").decode(errors="replace"))
            return None
    finally:
        library.destroy(handle)
    grey = planes[0] if planes[0].shape == (h, w) else np.ascontiguousarray(planes[0][:h, :w])
    if len(planes) == 1:
        return grey, 0.0
    return grey, plane_chroma(planes[1], planes[2], (w, h))


def _header(library: _TurboJpeg, handle: int, content: bytes) -> tuple[int, int, int] | object:
    """(width, height, sampling) of a YCbCr or grey JPEG, ``None`` for another (or no) JPEG,
    :data:`_REFUSED` for one over :data:`MAX_PIXELS`."""
    width, height, sampling, colourspace = (ctypes.c_int() for _ in range(4))
    if library.header(
        handle,
        content,
        len(content),
        ctypes.byref(width),
        ctypes.byref(height),
        ctypes.byref(sampling),
        ctypes.byref(colourspace),
    ):
        return None
    w, h = width.value, height.value
    if w <= 0 or h <= 0 or colourspace.value not in (_TJCS_YCBCR, _TJCS_GRAY):
        return None
    if w * h > MAX_PIXELS:
        log.warning("snapshot of %dx%d pixels not decoded (over %d)", w, h, MAX_PIXELS)
        return _REFUSED
    return w, h, sampling.value
