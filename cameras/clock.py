"""GetSystemDateAndTime without zeep: a constant request and a direct read of the hardened reply.

The liveness check of every camera, every 30 s, is this one unauthenticated call; through zeep
it cost about 2 ms of CPU (building the envelope from the WSDL, then deserialising the reply
into zeep objects, on top of the strict parse the transport already made), most of a check.
The request never varies, so it is sent as bytes (those zeep sends), and the reply is read by
element names; :mod:`cameras.soap` says how failures are raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from cameras import soap
from cameras.models import ClockReading

OPERATION = "GetSystemDateAndTime"
ACTION = f"{soap.DEVICE}/{OPERATION}"
REQUEST = soap.request(soap.DEVICE, OPERATION)
"""The SOAP 1.2 request, as zeep serialises it from the device WSDL (without the two unused
namespace declarations it adds)."""
HEADERS = soap.headers(soap.DEVICE, OPERATION)


def read_reply(
    status: int, root: etree._Element | None, sent: float, received: float
) -> ClockReading:
    """The camera's clock from a reply (``root`` is ``None`` for an empty body).

    ``sent`` and ``received`` (``time.time()``) bracket the exchange: the offset is taken
    against their midpoint (the camera answered about half-way).
    """
    return read_answer(soap.response(status, root, OPERATION), sent, received)


def read_answer(response: etree._Element, sent: float, received: float) -> ClockReading:
    """The camera's clock from a checked ``GetSystemDateAndTimeResponse`` element."""
    answer = soap.child(response, "SystemDateAndTime")
    utc = soap.optional(answer, "UTCDateTime")
    if utc is None:
        raise ValueError("the reply has no UTCDateTime")
    date, clock = soap.child(utc, "Date"), soap.child(utc, "Time")
    camera_utc = datetime(
        *(soap.integer(date, name) for name in ("Year", "Month", "Day")),
        *(soap.integer(clock, name) for name in ("Hour", "Minute", "Second")),
        tzinfo=UTC,
    )
    zone = soap.optional(answer, "TimeZone")
    tz = soap.optional(zone, "TZ")
    kind = soap.text(answer, "DateTimeType")
    return ClockReading(
        camera_utc=camera_utc,
        offset_s=camera_utc.timestamp() - (sent + received) / 2,
        date_time_type=kind or None,
        time_zone=None if tz is None else tz.text,
        round_trip_s=received - sent,
    )


def offset_from_date_header(
    headers: Mapping[str, str], sent: float, received: float
) -> float | None:
    """The camera's clock offset as its HTTP ``Date`` header tells it (1 s resolution), or None.

    A camera that refuses to tell its time without authentication still dates its refusal: the
    HTTP server runs on the camera's clock. That is enough to sign the UsernameToken with the
    camera's time (about a second off, well inside the minutes cameras tolerate), so a camera
    years off after a reboot without NTP still takes the credentials.
    """
    raw = headers.get("Date")
    if not raw:
        return None
    try:
        stamp = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp() + 0.5 - (sent + received) / 2
