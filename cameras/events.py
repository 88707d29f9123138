"""The camera's own events: a PullPoint subscription, and the health topics read from it.

A camera that offers ONVIF events (the events service in GetServices) is subscribed once
(``CreatePullPointSubscription``), renewed before its termination time, and re-created when the
camera forgets it (a restart: its PullMessages answers a fault). Notifications are deserialised by
zeep from the events WSDL and read by ``onvif-parsers``, the parser library Home Assistant's
ONVIF integration uses (topic by topic, vendors' quirks included); the few health topics it has
no parser for (signal loss, hardware failures other than storage) are read here from their
``Data`` items. Only the topics that tell a camera's health become causes (:data:`HEALTH`):
motion and analytics events are not supervision's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from cameras import soap

WSNT = "http://docs.oasis-open.org/wsn/b-2"
TOPICS = "http://www.onvif.org/ver10/topics"

TERMINATION = "PT5M"
"""How long a subscription lives without renewal: a restarted supervisor leaves nothing behind
for long (cameras hold a handful of subscriptions)."""
RENEW_AFTER_S = 180.0
"""Renewed this long after its creation or last renewal (before the 5 minutes run out)."""

CREATE_BODY = f"<ns0:InitialTerminationTime>{TERMINATION}</ns0:InitialTerminationTime>"
PULL_BODY = "<ns0:Timeout>PT1S</ns0:Timeout><ns0:MessageLimit>64</ns0:MessageLimit>"
"""At most 1 s of waiting: each pull is one short check, not a held connection."""
RENEW_BODY = f"<ns0:TerminationTime>{TERMINATION}</ns0:TerminationTime>"

PULL_ACTION = f"{soap.EVENTS}/PullPointSubscription/PullMessagesRequest"
RENEW_ACTION = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest"

HEALTH = (
    ("tns1:RuleEngine/TamperDetector/Tamper", "camera_tamper"),
    ("tns1:VideoSource/GlobalSceneChange", "camera_scene_change"),
    ("tns1:VideoSource/SignalLoss", "camera_video_loss"),
    ("tns1:VideoSource/ImageTooBlurry", "camera_blurred"),
    ("tns1:VideoSource/ImageTooDark", "camera_too_dark"),
    ("tns1:VideoSource/ImageTooBright", "camera_too_bright"),
    ("tns1:Device/HardwareFailure/StorageFailure", "storage_failure"),
    ("tns1:Device/HardwareFailure", "hardware_failure"),
)
"""Topic prefixes that tell a camera's health, and the cause each raises while true (first match
wins: storage before the other hardware failures)."""


def cause_of(topic: str) -> str | None:
    """The cause a health topic raises, or None for any other topic."""
    for prefix, cause in HEALTH:
        if topic == prefix or topic.startswith(prefix + "/"):
            return cause
    return None


@dataclass(frozen=True, slots=True)
class CameraEvent:
    """The latest state of one health property the camera reports."""

    key: str
    """Topic and source (a camera reports one state per video source or disk)."""
    topic: str
    name: str
    active: bool
    cause: str


def read_subscription(answer: etree._Element) -> str:
    """The subscription's address from a CreatePullPointSubscriptionResponse."""
    reference = soap.child(answer, "SubscriptionReference")
    address = soap.text(reference, "Address")
    if not address:
        raise ValueError("the reply has no SubscriptionReference Address")
    return address


def normalise_topics(root: etree._Element) -> int:
    """Write every notification's topic with the ``tns1`` prefix of the ONVIF topic namespace,
    whatever prefix the camera declared for it; the number of notifications."""
    count = 0
    for topic in root.iter(f"{{{WSNT}}}Topic"):
        count += 1
        text = (topic.text or "").strip()
        prefix, sep, rest = text.partition(":")
        if sep and prefix != "tns1" and topic.nsmap.get(prefix) == TOPICS:
            topic.text = f"tns1:{rest}"
        else:
            topic.text = text
    return count


async def health_events(messages: list[Any], uid: str) -> list[CameraEvent]:
    """The health properties among zeep-deserialised NotificationMessages, parsed by
    ``onvif-parsers`` where it knows the topic, else from their ``Data`` items."""
    import onvif_parsers  # noqa: PLC0415 -- imported with the first events, not at start-up
    from onvif_parsers.errors import UnknownTopicError  # noqa: PLC0415

    found = []
    for message in messages:
        topic = str(message.Topic._value_1 or "").strip().rstrip("/.")
        cause = cause_of(topic)
        if cause is None:
            continue
        try:
            entities = await onvif_parsers.parse(topic, uid, message)
        except UnknownTopicError:
            entities = _read_plainly(topic, uid, message)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            continue  # a message without the items its topic has: nothing to read
        for entity in entities:
            if isinstance(entity.value, bool):
                found.append(CameraEvent(entity.uid, topic, entity.name, entity.value, cause))
    return found


@dataclass(frozen=True, slots=True)
class _Entity:
    uid: str
    name: str
    value: bool | None


def _read_plainly(topic: str, uid: str, message: Any) -> list[_Entity]:
    """A health topic ``onvif-parsers`` has no parser for: its first boolean ``Data`` item."""
    payload = message.Message._value_1
    sources = [item.Value for item in (getattr(payload.Source, "SimpleItem", None) or [])]
    for item in getattr(payload.Data, "SimpleItem", None) or []:
        value = str(item.Value).strip().lower()
        if value in ("true", "false"):
            key = "_".join([uid, topic, *map(str, sources)])
            return [_Entity(key, topic.rsplit("/", 1)[-1], value == "true")]
    return []
