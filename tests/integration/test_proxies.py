"""Behind a reverse proxy, per-client limits count each colleague apart, and only when the
operator says a proxy is there: otherwise a forged X-Forwarded-For changes nothing."""

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.config import ConfigError, Settings

SIGN_UPS_PER_CLIENT = 30  # an hour, from one client address (api/resources/accounts)


def sign_up(client: FlaskClient, n: int, forwarded_for: str) -> TestResponse:
    return client.post(
        "/api/v1/accounts",
        json={"email": f"colleague{n}@example.org", "name": f"Colleague {n}", "password": "a long enough passphrase"},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_one_trusted_proxy_each_colleague_has_their_own_limit(make_app: Callable[..., Flask]) -> None:
    client = make_app(ratelimit_enabled=True, trusted_proxies=1).test_client()
    first = [sign_up(client, n, "203.0.113.7").status_code for n in range(SIGN_UPS_PER_CLIENT + 1)]
    assert first[:SIGN_UPS_PER_CLIENT] == [202] * SIGN_UPS_PER_CLIENT and first[-1] == 429
    assert sign_up(client, 100, "203.0.113.8").status_code == 202, "a second colleague is not refused"


def test_without_a_trusted_proxy_a_forged_header_does_not_dodge_the_limit(make_app: Callable[..., Flask]) -> None:
    client = make_app(ratelimit_enabled=True).test_client()
    statuses = [sign_up(client, n, f"198.51.100.{n}").status_code for n in range(SIGN_UPS_PER_CLIENT + 1)]
    assert statuses[-1] == 429


@pytest.mark.parametrize("value", ["-1", "4", "yes"])
def test_a_wrong_trusted_proxies_setting_stops_the_app_with_its_name(tmp_path: Path, value: str) -> None:
    env = {"SECRET_KEY": "s" * 40, "KEY_ENCRYPTION_KEY": "", "REDIS_URL": "redis://localhost:6379/0"}
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Settings.from_env({**env, "TRUSTED_PROXIES": value}, str(tmp_path))
