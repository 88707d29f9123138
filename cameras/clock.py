"""GetSystemDateAndTime without zeep: a constant request and a direct read of the hardened reply.

The liveness check of every camera, every 30 s, is this one unauthenticated call; through zeep
it cost about 2 ms of CPU (building the envelope from the WSDL, then deserialising the reply
into zeep objects, on top of the strict parse the transport already made), most of a check.
The request never varies, so it is sent as bytes (those zeep sends), and the reply, parsed once
by :func:`cameras.safexml.parse_strict` in the transport, is read by element names. Failures
are raised as the zeep path raised them (``zeep.exceptions.Fault`` for a SOAP fault or an
error status, ``zeep.exceptions.TransportError`` for an error status without a reply,
``ValueError`` for a reply missing what we read), so :meth:`cameras.client.Camera._run` maps
them to the same :class:`~cameras.errors.CameraError` as before.
"""

from __future__ import annotations

from datetime import UTC, datetime

import zeep.exceptions
from lxml import etree

from cameras.models import ClockReading

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
ACTION = "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"

REQUEST = (
    b"<?xml version='1.0' encoding='utf-8'?>\n"
    b'<soap-env:Envelope xmlns:soap-env="http://www.w3.org/2003/05/soap-envelope">'
    b"<soap-env:Body>"
    b'<ns0:GetSystemDateAndTime xmlns:ns0="http://www.onvif.org/ver10/device/wsdl"/>'
    b"</soap-env:Body></soap-env:Envelope>"
)
"""The SOAP 1.2 request, as zeep serialises it from the device WSDL (without the two unused
namespace declarations it adds)."""

HEADERS = {
    "SOAPAction": f'"{ACTION}"',
    "Content-Type": f'application/soap+xml; charset=utf-8; action="{ACTION}"',
}

_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_BODY = f"{{{SOAP_ENV}}}Body"
_NS = {"soap-env": SOAP_ENV}


def read_reply(
    status: int, root: etree._Element | None, sent: float, received: float
) -> ClockReading:
    """The camera's clock from a reply (``root`` is ``None`` for an empty body).

    ``sent`` and ``received`` (``time.time()``) bracket the exchange: the offset is taken
    against their midpoint (the camera answered about half-way).
    """
    if root is None:
        raise zeep.exceptions.TransportError(
            f"Server returned HTTP status {status} (no content available)", status_code=status
        )
    fault = root.find("soap-env:Body/soap-env:Fault", namespaces=_NS)
    if status != 200 or fault is not None:
        raise _fault(fault, root)
    if root.tag != _ENVELOPE:
        raise zeep.exceptions.XMLSyntaxError(
            f"The XML returned by the server does not contain a valid {{{SOAP_ENV}}}Envelope "
            f"root element. The root element found is {root.tag} "
        )
    answer = _child(
        _child(_child(root, "Body", _BODY), "GetSystemDateAndTimeResponse"), "SystemDateAndTime"
    )
    utc = _optional(answer, "UTCDateTime")
    if utc is None:
        raise ValueError("the reply has no UTCDateTime")
    date, clock = _child(utc, "Date"), _child(utc, "Time")
    camera_utc = datetime(
        _int(date, "Year"),
        _int(date, "Month"),
        _int(date, "Day"),
        _int(clock, "Hour"),
        _int(clock, "Minute"),
        _int(clock, "Second"),
        tzinfo=UTC,
    )
    zone = _optional(answer, "TimeZone")
    tz = None if zone is None else _optional(zone, "TZ")
    kind = _optional(answer, "DateTimeType")
    return ClockReading(
        camera_utc=camera_utc,
        offset_s=camera_utc.timestamp() - (sent + received) / 2,
        date_time_type=(kind.text or "").strip() or None if kind is not None else None,
        time_zone=None if tz is None else tz.text,
        round_trip_s=received - sent,
    )


def _fault(fault: etree._Element | None, root: etree._Element) -> zeep.exceptions.Fault:
    """zeep's SOAP 1.2 fault for the reply (``Soap12Binding.process_error``)."""
    if fault is None:
        return zeep.exceptions.Fault(
            message="Unknown fault occured", code=None, actor=None, detail=etree.tostring(root)
        )
    subcodes = []
    subcode = fault.find("soap-env:Code/soap-env:Subcode", namespaces=_NS)
    while subcode is not None:
        value = subcode.find("soap-env:Value", namespaces=_NS)
        if value is None or not (value.text or "").strip():
            break
        subcodes.append(_qname(value))
        subcode = subcode.find("soap-env:Subcode", namespaces=_NS)
    return zeep.exceptions.Fault(
        message=fault.findtext("soap-env:Reason/soap-env:Text", namespaces=_NS),
        code=fault.findtext("soap-env:Code/soap-env:Value", namespaces=_NS),
        actor=None,
        detail=fault.find("soap-env:Detail", namespaces=_NS),
        subcodes=subcodes,
    )


def _qname(value: etree._Element) -> etree.QName:
    """A ``prefix:name`` text as a qualified name, resolved in the element's namespaces."""
    text = (value.text or "").strip()
    prefix, _, name = text.rpartition(":")
    return etree.QName(value.nsmap.get(prefix or None), name)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _optional(parent: etree._Element, name: str) -> etree._Element | None:
    """The first child called ``name`` in any namespace (firmwares vary in prefixes)."""
    return parent.find("{*}" + name)


def _child(parent: etree._Element, name: str, tag: str | None = None) -> etree._Element:
    found = parent.find(tag) if tag is not None else _optional(parent, name)
    if found is None:
        raise ValueError(f"the reply has no {name} in {_local(parent)}")
    return found


def _int(parent: etree._Element, name: str) -> int:
    text = (_child(parent, name).text or "").strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"the reply's {name} is {text[:20]!r}, not a number") from None
