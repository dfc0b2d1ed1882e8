"""Settings from the environment: defaults, and a clear refusal for every wrong value."""

from pathlib import Path

import pytest

from api.config import ConfigError, Settings
from crypto import keyring
from crypto.encoding import b64u_encode

SECRET = "s" * 32
KEK = keyring.new_kek()
# What an app that others open needs besides its address (see "Serving others" below).
SERVING = {"MAIL_URL": "smtps://mail.example.org", "ORG_EMAIL_DOMAINS": "example.org"}


def settings(tmp_path: Path, **env: str) -> Settings:
    base = {"SECRET_KEY": SECRET, "KEY_ENCRYPTION_KEY": KEK}
    base.update(env)
    return Settings.from_env(base, str(tmp_path))


def refusal(tmp_path: Path, **env: str) -> str:
    with pytest.raises(ConfigError) as excinfo:
        settings(tmp_path, **env)
    return str(excinfo.value)


# --- Defaults ---


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    url = settings(tmp_path).database_url
    assert url.startswith("sqlite:///")
    assert Path(url.removeprefix("sqlite:///")).parent == tmp_path


def test_default_release_threshold_is_5(tmp_path: Path) -> None:
    assert settings(tmp_path).release_min_responses == 5


def test_default_port_is_5000(tmp_path: Path) -> None:
    assert settings(tmp_path).port == 5000


def test_default_public_base_url_is_localhost_on_the_port(tmp_path: Path) -> None:
    assert settings(tmp_path).public_base_url == "http://localhost:5000"
    assert settings(tmp_path, PORT="8080").public_base_url == "http://localhost:8080"


def test_without_redis_url_background_work_runs_in_process(tmp_path: Path) -> None:
    assert settings(tmp_path).redis_url is None


def test_blank_values_count_as_unset(tmp_path: Path) -> None:
    """An empty line like PORT= in .env falls back to the default instead of failing."""
    configured = settings(tmp_path, PORT="  ", RELEASE_MIN_RESPONSES="", DATABASE_URL=" ", REDIS_URL="")
    assert configured.port == 5000
    assert configured.release_min_responses == 5
    assert configured.database_url.startswith("sqlite:///")
    assert configured.redis_url is None


# --- Release threshold ---


@pytest.mark.parametrize("value", ["3", "5", "12"])
def test_release_threshold_of_3_or_more_is_honoured(tmp_path: Path, value: str) -> None:
    assert settings(tmp_path, RELEASE_MIN_RESPONSES=value).release_min_responses == int(value)


@pytest.mark.parametrize("value", ["2", "1", "0", "-5"])
def test_release_threshold_below_3_is_refused_naming_the_setting(tmp_path: Path, value: str) -> None:
    assert "RELEASE_MIN_RESPONSES" in refusal(tmp_path, RELEASE_MIN_RESPONSES=value)


@pytest.mark.parametrize("value", ["five", "5.0", "3x"])
def test_non_integer_release_threshold_is_refused_naming_the_setting(tmp_path: Path, value: str) -> None:
    assert "RELEASE_MIN_RESPONSES" in refusal(tmp_path, RELEASE_MIN_RESPONSES=value)


# --- How long a group's answers may wait for their breakdown ---


def test_group_answers_wait_up_to_14_days_by_default_and_0_turns_the_wait_off(tmp_path: Path) -> None:
    assert settings(tmp_path).group_hold_days == 14
    assert settings(tmp_path, GROUP_HOLD_DAYS="0").group_hold_days == 0
    assert settings(tmp_path, GROUP_HOLD_DAYS="30").group_hold_days == 30


@pytest.mark.parametrize("value", ["-1", "91", "two weeks"])
def test_a_group_wait_below_0_or_beyond_90_days_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    assert "GROUP_HOLD_DAYS" in refusal(tmp_path, GROUP_HOLD_DAYS=value)


# --- Port ---


def test_port_is_read_from_the_environment(tmp_path: Path) -> None:
    assert settings(tmp_path, PORT="8080").port == 8080


@pytest.mark.parametrize("value", ["http", "80.5", "5000/tcp", "0", "-1"])
def test_port_that_is_not_a_positive_whole_number_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    assert "PORT" in refusal(tmp_path, PORT=value)


def test_port_above_65535_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PORT"):
        settings(tmp_path, PORT="70000")


# --- Secret key ---


def test_missing_secret_key_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"KEY_ENCRYPTION_KEY": KEK}, str(tmp_path))


@pytest.mark.parametrize("value", ["", "   ", "short", "x" * 31, " " + "x" * 30 + " "])
def test_short_secret_key_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    message = refusal(tmp_path, SECRET_KEY=value)
    assert "SECRET_KEY" in message
    if value.strip():
        assert value.strip() not in message  # the refusal never echoes the secret


def test_secret_key_of_32_characters_is_accepted(tmp_path: Path) -> None:
    assert settings(tmp_path, SECRET_KEY="k" * 32).secret_key == "k" * 32


# --- Key-encryption key ---


def test_missing_kek_is_refused_when_jobs_run_in_process(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KEY_ENCRYPTION_KEY"):
        Settings.from_env({"SECRET_KEY": SECRET}, str(tmp_path))


def test_web_tier_with_redis_runs_without_any_private_key(tmp_path: Path) -> None:
    """With REDIS_URL the worker decrypts, so the web tier may (and should) start without the KEK."""
    configured = Settings.from_env({"SECRET_KEY": SECRET, "REDIS_URL": "redis://localhost:6379/0"}, str(tmp_path))
    assert configured.key_encryption_key is None
    assert configured.redis_url == "redis://localhost:6379/0"


def test_kek_is_parsed_to_its_32_bytes(tmp_path: Path) -> None:
    assert settings(tmp_path).key_encryption_key == keyring.parse_kek(KEK)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b64u_encode(b"k" * 16), id="too-short"),
        pytest.param(b64u_encode(b"k" * 48), id="too-long"),
        pytest.param(b64u_encode(b"k" * 32) + "=", id="padded"),
        pytest.param("+/" * 21 + "A", id="standard-alphabet"),
        pytest.param("this is not a key", id="prose"),
    ],
)
def test_malformed_kek_is_refused_naming_it_without_echoing_it(tmp_path: Path, value: str) -> None:
    message = refusal(tmp_path, KEY_ENCRYPTION_KEY=value)
    assert "KEY_ENCRYPTION_KEY" in message
    assert value not in message


def test_malformed_kek_is_refused_even_with_redis(tmp_path: Path) -> None:
    assert "KEY_ENCRYPTION_KEY" in refusal(tmp_path, KEY_ENCRYPTION_KEY="nope", REDIS_URL="redis://localhost")


# --- Database URL ---


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/allyloop", "postgresql+psycopg://u:p@db.example:5432/allyloop"),
        ("postgresql://u:p@db.example/allyloop", "postgresql+psycopg://u:p@db.example/allyloop"),
        ("postgresql+psycopg://u@db/allyloop", "postgresql+psycopg://u@db/allyloop"),
        ("sqlite:////var/lib/allyloop.sqlite3", "sqlite:////var/lib/allyloop.sqlite3"),
    ],
)
def test_database_urls_from_hosting_platforms_are_accepted(tmp_path: Path, given: str, expected: str) -> None:
    assert settings(tmp_path, DATABASE_URL=given).database_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "mysql://u:p@db/allyloop",
        "postgresql+psycopg2://u@db/allyloop",
        "db.example:5432/allyloop",
        "/var/lib/allyloop.sqlite3",
    ],
)
def test_unsupported_database_url_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    assert "DATABASE_URL" in refusal(tmp_path, DATABASE_URL=value)


@pytest.mark.parametrize(
    "value",
    [
        "postgres://u:hunter2@db.example:port/allyloop",
        "postgresql+psycopg://u:hunter2@db.example:5432:1/allyloop",
        "sqlite:hunter2",
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_a_database_url_that_could_not_be_used_is_refused_at_start_without_repeating_it(
    tmp_path: Path, value: str
) -> None:
    message = refusal(tmp_path, DATABASE_URL=value)
    assert message.startswith("DATABASE_URL") and "hunter2" not in message


@pytest.mark.parametrize("value", ["redis://localhost:port/0", "http://localhost:6379", "redis://[::1"])
def test_a_redis_url_that_could_not_be_used_is_refused_at_start(tmp_path: Path, value: str) -> None:
    assert refusal(tmp_path, REDIS_URL=value).startswith("REDIS_URL")


# --- Public base URL ---


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://allyloop.example.org/", "https://allyloop.example.org"),
        ("https://allyloop.example.org", "https://allyloop.example.org"),
        ("http://localhost:8000//", "http://localhost:8000"),
        ("https://example.org/allyloop/", "https://example.org/allyloop"),
    ],
)
def test_public_base_url_loses_its_trailing_slash(tmp_path: Path, given: str, expected: str) -> None:
    """Links are built as base + '/r/<token>', so no double slash appears in shared links."""
    assert settings(tmp_path, PUBLIC_BASE_URL=given, **SERVING).public_base_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "allyloop.example.org",
        "ftp://allyloop.example.org",
        "https://",
        "javascript:alert(1)",
        "//example.org",
        "https://example.org:port",
        "https://[::1",
    ],
)
def test_public_base_url_that_is_not_http_is_refused_naming_it(tmp_path: Path, value: str) -> None:
    assert "PUBLIC_BASE_URL" in refusal(tmp_path, PUBLIC_BASE_URL=value)


def test_settings_cannot_be_changed_after_start(tmp_path: Path) -> None:
    configured = settings(tmp_path)
    with pytest.raises(AttributeError):
        configured.release_min_responses = 1  # type: ignore[misc]


# --- Follow-ups and reminder mail ---


def test_follow_ups_default_to_30_and_90_days_and_no_mail(tmp_path: Path) -> None:
    configured = settings(tmp_path)
    assert configured.followup_days == (30, 90) and configured.mail_url is None


def test_follow_up_days_can_be_set(tmp_path: Path) -> None:
    assert settings(tmp_path, FOLLOWUP_DAYS="14, 60").followup_days == (14, 60)


@pytest.mark.parametrize("value", ["30", "30,90,180", "90,30", "0,30", "thirty,ninety", "30,,90"])
def test_wrong_follow_up_days_are_refused(tmp_path: Path, value: str) -> None:
    message = refusal(tmp_path, FOLLOWUP_DAYS=value)
    assert message.startswith("FOLLOWUP_DAYS") and "30,90" in message


@pytest.mark.parametrize("url", ["smtp://mail.example.org", "smtps://user:p%40ss@mail.example.org:465"])
def test_smtp_urls_are_accepted(tmp_path: Path, url: str) -> None:
    assert settings(tmp_path, MAIL_URL=url).mail_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.org",
        "smtp://",
        "smtp://host:notaport",
        "smtp://host:99999",
        "smtp://host/path",
        "smtp://[::1",
    ],
)
def test_wrong_mail_urls_are_refused_without_repeating_them(tmp_path: Path, url: str) -> None:
    message = refusal(tmp_path, MAIL_URL=url.replace("host", "user:hunter2@host"))
    assert message.startswith("MAIL_URL must look like smtp://") and "hunter2" not in message


def test_a_mail_from_must_be_an_address(tmp_path: Path) -> None:
    assert "MAIL_FROM" in refusal(tmp_path, MAIL_FROM="allyloop")
    assert settings(tmp_path, MAIL_FROM="Allyloop <a@example.org>").mail_from == "Allyloop <a@example.org>"


def test_release_interval_defaults_to_ten_minutes_and_is_configurable(tmp_path: Path) -> None:
    assert settings(tmp_path).release_interval_seconds == 600
    assert settings(tmp_path, RELEASE_INTERVAL_SECONDS="900").release_interval_seconds == 900


@pytest.mark.parametrize("value", ["0", "-5", "ten", "86401"])
def test_a_release_interval_that_is_not_1_to_86400_seconds_is_refused(tmp_path: Path, value: str) -> None:
    assert "RELEASE_INTERVAL_SECONDS" in refusal(tmp_path, RELEASE_INTERVAL_SECONDS=value)


def test_large_releases_open_on_one_process_unless_told_otherwise(tmp_path: Path) -> None:
    assert settings(tmp_path).release_processes == 1
    assert settings(tmp_path, RELEASE_PROCESSES="2").release_processes == 2
    for value in ("0", "two", "65"):
        assert "RELEASE_PROCESSES" in refusal(tmp_path, RELEASE_PROCESSES=value)


# --- Serving others: mail and the organisation's domains ---


@pytest.mark.parametrize(
    "url",
    ["http://localhost:5000", "http://LOCALHOST", "http://127.0.0.1:8000", "http://127.8.9.1", "http://[::1]:5000"],
)
def test_an_app_on_this_machine_is_local_only_and_needs_no_mail_server(tmp_path: Path, url: str) -> None:
    configured = settings(tmp_path, PUBLIC_BASE_URL=url)
    assert configured.local_only and configured.mail_url is None and configured.org_email_domains == ()


@pytest.mark.parametrize(
    "url", ["https://allyloop.example.org", "http://192.168.1.20:5000", "http://localhost.example.org", "http://[::2]"]
)
def test_an_app_others_open_is_not_local_only(tmp_path: Path, url: str) -> None:
    assert not settings(tmp_path, PUBLIC_BASE_URL=url, **SERVING).local_only


def test_an_app_others_open_will_not_start_without_a_mail_server(tmp_path: Path) -> None:
    message = refusal(tmp_path, PUBLIC_BASE_URL="https://allyloop.example.org", ORG_EMAIL_DOMAINS="example.org")
    assert message.startswith("MAIL_URL is needed when PUBLIC_BASE_URL is not localhost: ")


def test_an_app_others_open_will_not_start_without_the_organisation_domains(tmp_path: Path) -> None:
    message = refusal(tmp_path, PUBLIC_BASE_URL="https://allyloop.example.org", MAIL_URL="smtps://mail.example.org")
    assert message.startswith("ORG_EMAIL_DOMAINS is needed when PUBLIC_BASE_URL is not localhost: ")


def test_organisation_domains_are_kept_lowercased_once_each(tmp_path: Path) -> None:
    configured = settings(tmp_path, ORG_EMAIL_DOMAINS=" Example.ORG, staff.example.org,example.org, ")
    assert configured.org_email_domains == ("example.org", "staff.example.org")


@pytest.mark.parametrize("value", ["example", "example.org,@example.com", "exa mple.org", "example.org;example.com"])
def test_an_organisation_domain_that_is_not_a_domain_name_is_refused(tmp_path: Path, value: str) -> None:
    assert refusal(tmp_path, ORG_EMAIL_DOMAINS=value).startswith("ORG_EMAIL_DOMAINS: ")


# --- Single sign-on (OpenID Connect) and password sign-in ---

CLIENT_SECRET = "a-client-secret-that-must-never-show"
OIDC = {
    "OIDC_ISSUER": "https://login.example.org/realms/staff",
    "OIDC_CLIENT_ID": "allyloop",
    "OIDC_CLIENT_SECRET": CLIENT_SECRET,
}


def test_by_default_there_is_no_single_sign_on_and_passwords_sign_in(tmp_path: Path) -> None:
    configured = settings(tmp_path)
    assert not configured.sso_enabled and configured.oidc_issuer is None
    assert configured.password_sign_in


def test_the_three_oidc_settings_turn_on_single_sign_on(tmp_path: Path) -> None:
    configured = settings(tmp_path, **OIDC)
    assert configured.sso_enabled
    assert (configured.oidc_issuer, configured.oidc_client_id) == ("https://login.example.org/realms/staff", "allyloop")
    assert configured.oidc_client_secret == CLIENT_SECRET


def test_the_issuer_is_kept_exactly_as_given(tmp_path: Path) -> None:
    """ID tokens must name the issuer to the character, trailing slash included (as some providers do)."""
    assert settings(tmp_path, **{**OIDC, "OIDC_ISSUER": "https://tenant.example.org/"}).oidc_issuer == (
        "https://tenant.example.org/"
    )


@pytest.mark.parametrize("left_out", ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"])
def test_oidc_settings_come_all_three_or_none(tmp_path: Path, left_out: str) -> None:
    env = {name: value for name, value in OIDC.items() if name != left_out}
    message = refusal(tmp_path, **env)
    assert message.startswith("OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together")
    assert message.endswith(f"(missing: {left_out})")


@pytest.mark.parametrize(
    "issuer", ["http://login.example.org", "ftp://login.example.org", "https://", "login.example.org", "https://x/?a=1"]
)
def test_an_issuer_that_is_not_an_https_url_is_refused(tmp_path: Path, issuer: str) -> None:
    assert refusal(tmp_path, **{**OIDC, "OIDC_ISSUER": issuer}).startswith("OIDC_ISSUER must be")


@pytest.mark.parametrize("issuer", ["http://localhost:9000", "http://127.0.0.1:9000/op", "http://[::1]:9000"])
def test_an_http_issuer_is_allowed_on_this_machine(tmp_path: Path, issuer: str) -> None:
    assert settings(tmp_path, **{**OIDC, "OIDC_ISSUER": issuer}).oidc_issuer == issuer


@pytest.mark.parametrize(
    "env",
    [
        {"OIDC_CLIENT_SECRET": CLIENT_SECRET},
        {"OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_ISSUER": "https://login.example.org"},
        {**OIDC, "OIDC_ISSUER": "http://login.example.org"},
    ],
)
def test_no_oidc_refusal_repeats_the_client_secret(tmp_path: Path, env: dict[str, str]) -> None:
    assert CLIENT_SECRET not in refusal(tmp_path, **env)


def test_the_client_secret_is_left_out_of_the_settings_repr(tmp_path: Path) -> None:
    assert CLIENT_SECRET not in repr(settings(tmp_path, **OIDC))


def test_password_sign_in_can_be_switched_off_when_single_sign_on_is_on(tmp_path: Path) -> None:
    assert not settings(tmp_path, PASSWORD_SIGN_IN="off", **OIDC).password_sign_in
    assert settings(tmp_path, PASSWORD_SIGN_IN="On", **OIDC).password_sign_in


def test_password_sign_in_stays_on_without_single_sign_on(tmp_path: Path) -> None:
    """Off with no identity provider would let nobody sign in."""
    assert refusal(tmp_path, PASSWORD_SIGN_IN="off").startswith("PASSWORD_SIGN_IN=off needs single sign-on")


@pytest.mark.parametrize("value", ["no", "false", "0", "of"])
def test_password_sign_in_is_on_or_off(tmp_path: Path, value: str) -> None:
    assert refusal(tmp_path, PASSWORD_SIGN_IN=value, **OIDC) == "PASSWORD_SIGN_IN must be on (the default) or off"
