"""The one place the API reads the time, as naive UTC (what the database stores)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
