"""Fixtures for the integration tests: real servers on loopback."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import SmtpSink


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """A real SMTP server in its own process (see tests.servers.SmtpSink), stopped after the test."""
    sink = SmtpSink(tmp_path / "smtp")
    sink.start()
    yield sink
    sink.stop()
