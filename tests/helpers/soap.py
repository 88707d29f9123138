"""SOAP 1.2 replies of a camera's device service, crafted for the tests the simulator cannot serve
(faults, other namespace prefixes, broken dates)."""

from __future__ import annotations

ENV12 = "http://www.w3.org/2003/05/soap-envelope"


def envelope(body: str, ns: str = ENV12) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="{ns}" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
        'xmlns:ter="http://www.onvif.org/ver10/error">'
        f"<e:Body>{body}</e:Body></e:Envelope>"
    ).encode()


def answer(date: str = "<tt:Year>2026</tt:Year><tt:Month>3</tt:Month><tt:Day>2</tt:Day>") -> str:
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tt:TimeZone>"
        "<tt:UTCDateTime><tt:Date>" + date + "</tt:Date>"
        "<tt:Time><tt:Hour>8</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>5</tt:Second></tt:Time>"
        "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def fault(code: str, subcode: str, reason: str) -> str:
    return (
        f"<e:Fault><e:Code><e:Value>e:{code}</e:Value><e:Subcode><e:Value>{subcode}</e:Value>"
        f'</e:Subcode></e:Code><e:Reason><e:Text xml:lang="en">{reason}</e:Text></e:Reason>'
        "</e:Fault>"
    )
