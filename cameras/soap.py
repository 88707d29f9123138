"""SOAP 1.2 without zeep: envelopes, the WS-Security UsernameToken, and reading checked replies.

zeep builds each request from the WSDL and deserialises each reply into objects: 1 to 4 ms of
CPU per call (GetProfiles the most), which at 5,000 cameras is most of what supervising costs.
The calls a supervisor repeats (:mod:`cameras.clock`, :mod:`cameras.calls`) are therefore sent
as bytes built here, the same envelopes zeep sends, and their replies, parsed once by
:func:`cameras.safexml.parse_strict` in the transport, are read by element names (in any
namespace prefix: firmwares vary). Failures are raised as zeep raised them
(``zeep.exceptions.Fault`` for a SOAP fault or an error status, ``TransportError`` for an error
status without a reply, ``ValueError`` for a reply missing what we read), so
:meth:`cameras.client.Camera._run` maps them to the same :class:`~cameras.errors.CameraError`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import zeep.exceptions
from lxml import etree

__all__ = [
    "DEVICE",
    "MEDIA",
    "MEDIA2",
    "SCHEMA",
    "SOAP_ENV",
    "child",
    "headers",
    "integer",
    "optional",
    "optional_integer",
    "request",
    "response",
    "text",
    "username_token",
]

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
DEVICE = "http://www.onvif.org/ver10/device/wsdl"
MEDIA = "http://www.onvif.org/ver10/media/wsdl"
MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"
PTZ = "http://www.onvif.org/ver20/ptz/wsdl"
EVENTS = "http://www.onvif.org/ver10/events/wsdl"
IMAGING = "http://www.onvif.org/ver20/imaging/wsdl"
SCHEMA = "http://www.onvif.org/ver10/schema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_USERNAME_PROFILE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
_MESSAGE_SECURITY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
)

_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_BODY = f"{{{SOAP_ENV}}}Body"
_NS = {"soap-env": SOAP_ENV}


def headers(namespace: str, operation: str) -> dict[str, str]:
    """The HTTP headers of a SOAP 1.2 call (the action both as SOAPAction and in the type)."""
    action = f"{namespace}/{operation}"
    return {
        "SOAPAction": f'"{action}"',
        "Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"',
    }


def request(
    namespace: str, operation: str, body: str = "", *, security: str = "", addressing: str = ""
) -> bytes:
    """The envelope of one call: ``body`` is the operation's children, already XML.

    The operation element is prefixed ``ns0`` as zeep writes it; ``security`` is a
    :func:`username_token` header (empty for unauthenticated calls), ``addressing`` WS-Addressing
    headers (:func:`addressing`: event subscriptions want them).
    """
    header = (
        f"<soap-env:Header>{security}{addressing}</soap-env:Header>"
        if security or addressing
        else ""
    )
    call = (
        f'<ns0:{operation} xmlns:ns0="{namespace}">{body}</ns0:{operation}>'
        if body
        else f'<ns0:{operation} xmlns:ns0="{namespace}"/>'
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        f'<soap-env:Envelope xmlns:soap-env="{SOAP_ENV}">{header}'
        f"<soap-env:Body>{call}</soap-env:Body></soap-env:Envelope>"
    ).encode()


WSA = "http://www.w3.org/2005/08/addressing"


def addressing(action: str, to: str) -> str:
    """WS-Addressing ``Action`` and ``To`` headers (a PullPoint subscription is addressed by
    its URL, which many firmwares check against ``To``)."""
    return (
        f'<wsa:Action xmlns:wsa="{WSA}">{escape(action)}</wsa:Action>'
        f'<wsa:To xmlns:wsa="{WSA}">{escape(to)}</wsa:To>'
    )


def username_token(
    username: str,
    password: str,
    offset: timedelta | None = None,
    *,
    now: datetime | None = None,
    nonce: bytes | None = None,
) -> str:
    """A WS-Security header with a UsernameToken password digest (ONVIF Core 5.12.2).

    ``Created`` is our UTC time plus ``offset``, the camera's clock offset, so a camera whose
    clock drifts still finds the token fresh (as onvif-zeep-async's ``dt_diff`` does). Digest =
    Base64(SHA-1(nonce + Created + password)): the password itself is never sent.
    """
    created_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if offset is not None:
        created_at += offset
    created = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = os.urandom(16) if nonce is None else nonce
    digest = base64.b64encode(
        hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324 -- the protocol's hash
    ).decode()
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{_USERNAME_PROFILE}#PasswordDigest">{digest}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{_MESSAGE_SECURITY}#Base64Binary">'
        f"{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f'<wsu:Created xmlns:wsu="{WSU}">{created}</wsu:Created>'
        "</wsse:UsernameToken></wsse:Security>"
    )


def response(status: int, root: etree._Element | None, operation: str) -> etree._Element:
    """The ``<operation>Response`` element of a checked reply (``root`` ``None``: empty body).

    Raises what zeep raised for the same reply: a fault (or an error status) as
    ``zeep.exceptions.Fault``, an error status without body as ``TransportError``, another root
    than a SOAP 1.2 envelope as ``XMLSyntaxError``, a missing answer as ``ValueError``.
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
    return child(child(root, "Body", _BODY), f"{operation}Response")


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
    raw = (value.text or "").strip()
    prefix, _, name = raw.rpartition(":")
    return etree.QName(value.nsmap.get(prefix or None), name)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def optional(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child called ``name`` in any namespace, or ``None``."""
    return None if parent is None else parent.find("{*}" + name)


def child(parent: etree._Element, name: str, tag: str | None = None) -> etree._Element:
    """The first child called ``name`` (or exactly ``tag``); a reply without it is unusable."""
    found = parent.find(tag) if tag is not None else optional(parent, name)
    if found is None:
        raise ValueError(f"the reply has no {name} in {_local(parent)}")
    return found


def text(parent: etree._Element | None, name: str) -> str:
    """The stripped text of child ``name``, ``""`` when it is absent or empty."""
    found = optional(parent, name)
    return "" if found is None else (found.text or "").strip()


def integer(parent: etree._Element, name: str) -> int:
    """Child ``name`` as an integer; a reply without it, or with another text, is unusable."""
    value = optional_integer(parent, name)
    if value is None:
        raise ValueError(f"the reply has no {name} in {_local(parent)}")
    return value


def optional_integer(parent: etree._Element | None, name: str) -> int | None:
    """Child ``name`` as an integer, ``None`` when it is absent."""
    found = optional(parent, name)
    if found is None:
        return None
    raw = (found.text or "").strip()
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"the reply's {name} is {raw[:20]!r}, not a number") from None
