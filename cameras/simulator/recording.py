"""The simulated cameras' edge recording (ONVIF Profile G), with its two faults.

No capture holds a whole Profile G exchange, so the replies are written in the shapes of the
real ones (``captures/axis-unknown-model/005_Recording_GetRecordings.xml`` and
``006_Recording_GetRecordingJobs.xml``: ``SOAP-ENV``/``trc``/``tt`` prefixes, the job token
the recording's, ``Mode`` under ``JobConfiguration``); GetRecordingSummary and
GetRecordingJobState follow the ONVIF schema (Search 10.x, Recording 10.x). One recording, one
job: an SD card recording the main profile continuously, its data up to a few seconds ago.

- ``recording_stopped``: someone (or a firmware update) turned the job Idle; no data since.
- ``storage_failed``: the job stays configured Active but is in Error, its track blaming the
  SD card; no data since.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RECORDING_OPERATIONS = frozenset(
    {"GetRecordingSummary", "GetRecordings", "GetRecordingJobs", "GetRecordingJobState"}
)
TOKEN = "SD_DISK_20241120_211729_9C896594"  # noqa: S105 -- a recording's name, no secret
"""The recording's and the job's token, as the Axis capture names them."""
RETENTION = timedelta(days=30)
"""The data kept: the law's month at most (CSI L252-5)."""
WRITE_DELAY = timedelta(seconds=4)
"""How far behind its clock a healthy camera's latest data is (its write blocks)."""

_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope '
    'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:trc="http://www.onvif.org/ver10/recording/wsdl" '
    'xmlns:tse="http://www.onvif.org/ver10/search/wsdl">'
    "<SOAP-ENV:Body>"
)
_FOOTER = "</SOAP-ENV:Body></SOAP-ENV:Envelope>"


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def reply(
    operation: str,
    camera_now: datetime,
    *,
    stopped: str | None,
    stopped_for: timedelta,
) -> str:
    """The reply to one Profile G call. ``stopped``: ``"recording_stopped"`` or
    ``"storage_failed"`` (None: recording); ``stopped_for``: since when no data is written."""
    until = camera_now - (stopped_for if stopped else WRITE_DELAY)
    mode = "Idle" if stopped == "recording_stopped" else "Active"
    state = {"recording_stopped": "Idle", "storage_failed": "Error"}.get(stopped or "", "Active")
    error = (
        "<tt:Error>Storage failure: SD card not writable</tt:Error>"
        if stopped == "storage_failed"
        else ""
    )
    if operation == "GetRecordingSummary":
        body = (
            "<tse:GetRecordingSummaryResponse><tse:Summary>"
            f"<tt:DataFrom>{_time(camera_now - RETENTION)}</tt:DataFrom>"
            f"<tt:DataUntil>{_time(until)}</tt:DataUntil>"
            "<tt:NumberRecordings>1</tt:NumberRecordings>"
            "</tse:Summary></tse:GetRecordingSummaryResponse>"
        )
    elif operation == "GetRecordings":
        body = (
            "<trc:GetRecordingsResponse><trc:RecordingItem>"
            f"<tt:RecordingToken>{TOKEN}</tt:RecordingToken><tt:Configuration><tt:Source>"
            "<tt:SourceId></tt:SourceId><tt:Name>camera</tt:Name><tt:Location></tt:Location>"
            "<tt:Description></tt:Description><tt:Address></tt:Address></tt:Source>"
            "<tt:Content>continuous</tt:Content>"
            "<tt:MaximumRetentionTime>P30D</tt:MaximumRetentionTime></tt:Configuration>"
            "<tt:Tracks><tt:Track><tt:TrackToken>VIDEO001</tt:TrackToken><tt:Configuration>"
            "<tt:TrackType>Video</tt:TrackType><tt:Description></tt:Description>"
            "</tt:Configuration></tt:Track></tt:Tracks>"
            "</trc:RecordingItem></trc:GetRecordingsResponse>"
        )
    elif operation == "GetRecordingJobs":
        body = (
            "<trc:GetRecordingJobsResponse><trc:JobItem>"
            f"<trc:JobToken>{TOKEN}</trc:JobToken><trc:JobConfiguration>"
            f"<tt:RecordingToken>{TOKEN}</tt:RecordingToken><tt:Mode>{mode}</tt:Mode>"
            "<tt:Priority>9</tt:Priority><tt:Source>"
            '<tt:SourceToken Type="http://www.onvif.org/ver10/schema/Profile">'
            "<tt:Token>Profile_L1S1</tt:Token></tt:SourceToken>"
            "<tt:AutoCreateReceiver>false</tt:AutoCreateReceiver><tt:Tracks>"
            "<tt:SourceTag>tag0</tt:SourceTag><tt:Destination>VIDEO001</tt:Destination>"
            "</tt:Tracks></tt:Source></trc:JobConfiguration>"
            "</trc:JobItem></trc:GetRecordingJobsResponse>"
        )
    else:  # GetRecordingJobState
        body = (
            "<trc:GetRecordingJobStateResponse><trc:State>"
            f"<tt:RecordingToken>{TOKEN}</tt:RecordingToken><tt:State>{state}</tt:State>"
            '<tt:Sources><tt:SourceToken Type="http://www.onvif.org/ver10/schema/Profile">'
            f"<tt:Token>Profile_L1S1</tt:Token></tt:SourceToken><tt:State>{state}</tt:State>"
            "<tt:Tracks><tt:Track><tt:SourceTag>tag0</tt:SourceTag>"
            f"<tt:Destination>VIDEO001</tt:Destination>{error}<tt:State>{state}</tt:State>"
            "</tt:Track></tt:Tracks></tt:Sources>"
            "</trc:State></trc:GetRecordingJobStateResponse>"
        )
    return _HEADER + body + _FOOTER
