"""Hardened XML for everything a camera sends us, and for what the simulator receives.

onvif-zeep-async parses replies with zeep's settings ``strict=False`` (lxml recover mode) and
``xml_huge_tree=True``: a hostile or broken camera could then feed a billion-laughs document, a
12 MiB text node or 5,000-deep nesting straight into the parser, and recover mode silently
truncates what it cannot read. Here every reply is first parsed once, strictly, by a parser that
loads no DTD, expands no entity, touches no network and refuses huge trees; only bytes that pass
reach zeep, whose own settings forbid DTDs, entities and external references as a second line.
Bodies are capped before parsing by the transport (:mod:`cameras.transport`).
"""

from __future__ import annotations

import threading

from lxml import etree
from zeep.settings import Settings

MAX_SOAP_BYTES = 1024 * 1024
"""Largest SOAP reply read from a camera. The real Bosch GetProfiles (4 profiles) is 18 KB."""

MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024
"""Largest snapshot read from a camera: a 4K JPEG at high quality is about 2-3 MB."""

HARDENED_SETTINGS = Settings(
    # Lenient on schema deviations (real firmwares add or omit elements), which zeep ties to
    # lxml's recover mode: safe only because check_xml() has parsed the same bytes strictly.
    strict=False,
    xml_huge_tree=False,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
)

_local = threading.local()


class UnsafeXmlError(ValueError):
    """The bytes are not plain, bounded XML (the reason is the message)."""


def hardened_parser() -> etree.XMLParser:
    """A strict lxml parser with DTDs, entities, network and huge trees off (one per thread)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=False,
            recover=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_strict(body: bytes) -> etree._Element:
    """Parse ``body`` with :func:`hardened_parser`; refuse any DOCTYPE.

    A DOCTYPE is refused outright: SOAP forbids it (SOAP 1.2 part 1, 5), and it is the carrier of
    entity bombs and XXE. libxml2 without XML_PARSE_HUGE refuses nesting deeper than 256 and
    text nodes over 10 MB, which covers the other two attacks.
    """
    head = body[:4096].lstrip()
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise UnsafeXmlError("a DOCTYPE or entity declaration (forbidden in SOAP)")
    try:
        root = etree.fromstring(body, parser=hardened_parser())
    except etree.XMLSyntaxError as error:
        raise UnsafeXmlError(f"not well-formed XML ({error})") from error
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXmlError("a DOCTYPE (forbidden in SOAP)")
    return root
