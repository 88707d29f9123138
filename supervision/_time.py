"""Aware UTC datetimes in and out of the core: checked on entry, ISO 8601 in dicts."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime, what: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused because its instant is ambiguous."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {value.isoformat()}; give it a time zone (UTC)")
    return value.astimezone(UTC)


def to_iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def from_iso(value: object, what: str) -> datetime | None:
    """Parse what :func:`to_iso` wrote (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"{what}: not an ISO 8601 time: {value!r}") from err
    return as_utc(parsed, what)
