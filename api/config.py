"""Configuration: one frozen object, built from the environment and checked at start."""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crypto import keyring, passwords
from feedback import addresses, followups
from feedback.release.rules import MIN_K


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    secret_key: str
    public_base_url: str
    release_min_responses: int
    port: int
    key_encryption_key: bytes | None  # only the worker (or the in-process jobs) needs it
    link_days: int = 30
    # With Redis, releases run on a fixed wall-clock tick this many seconds apart (see api/jobs/schedule.py).
    release_interval_seconds: int = 600
    # Processes that open the answers of a large release (feedback/release/opening.py); 1: the job's own.
    release_processes: int = 1
    # From this many answers on, a release opens them on RELEASE_PROCESSES processes (tests lower it).
    release_pool_from: int = 30_000
    # Days a group's answers may wait to show their breakdown by path (feedback/release/run.py); 0: never.
    group_hold_days: int = 14
    max_body_bytes: int = 64 * 1024
    password_cost: int = passwords.DEFAULT_COST
    ratelimit_enabled: bool = True
    testing: bool = False
    # In-process jobs run on a background thread; tests run them inline, right after each answer.
    jobs_inline: bool = False
    # Days after the first immediate request when followup_30 and followup_90 come due.
    followup_days: tuple[int, int] = (30, 90)
    # smtp:// or smtps:// URL for every email; unset (development only), mail lands in the
    # outbox in the instance folder, shown at /dev/outbox.
    mail_url: str | None = None
    mail_from: str | None = None
    # Lowercased domains that accounts, invitations and recipients must be in; () in development.
    org_email_domains: tuple[str, ...] = ()
    # The organisation's name, as recipients see it ("Sent through Example Ltd's Allyloop"):
    # ORG_NAME, else its first email domain, else none (the page then names no organisation).
    org_name: str | None = None
    # The organisation's OpenID Provider (web/sso.py): all three, or none for no single sign-on.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    # Off: people sign in only through the identity provider (allowed only with one set).
    password_sign_in: bool = True
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto it believes (0: none,
    # so no client can choose the address its per-client limits are counted under).
    trusted_proxies: int = 0

    @property
    def sso_enabled(self) -> bool:
        """Whether people can sign in with the organisation's identity provider."""
        return self.oidc_issuer is not None

    @property
    def local_only(self) -> bool:
        """Whether the app serves only this machine (PUBLIC_BASE_URL on loopback): development."""
        return is_loopback(urlsplit(self.public_base_url).hostname or "")

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> "Settings":
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        secret = get("SECRET_KEY")
        if secret is None or len(secret) < 32:
            raise ConfigError("SECRET_KEY must be set to at least 32 random characters ('make run' writes one to .env)")
        redis_url = get("REDIS_URL")
        if redis_url is not None:
            _check_redis_url(redis_url)
        kek_text = get("KEY_ENCRYPTION_KEY")
        kek = None
        if kek_text is not None:
            try:
                kek = keyring.parse_kek(kek_text)
            except keyring.WrappedKeyError as exc:
                raise ConfigError(f"KEY_ENCRYPTION_KEY: {exc}") from None
        elif redis_url is None:
            raise ConfigError("KEY_ENCRYPTION_KEY must be set when jobs run in-process (no REDIS_URL)")
        port = _int(env, "PORT", 5000, 65535)
        issuer, client_id, client_secret = _oidc(get("OIDC_ISSUER"), get("OIDC_CLIENT_ID"), get("OIDC_CLIENT_SECRET"))
        settings = cls(
            database_url=database_url(get("DATABASE_URL"), instance_path),
            redis_url=redis_url,
            secret_key=secret,
            public_base_url=_base_url(get("PUBLIC_BASE_URL") or f"http://localhost:{port}"),
            release_min_responses=_k(env),
            port=port,
            key_encryption_key=kek,
            link_days=_int(env, "LINK_DAYS", 30),
            followup_days=_followup_days(get("FOLLOWUP_DAYS")),
            mail_url=_mail_url(get("MAIL_URL")),
            mail_from=_mail_from(get("MAIL_FROM")),
            org_email_domains=_org_email_domains(get("ORG_EMAIL_DOMAINS")),
            org_name=_org_name(get("ORG_NAME"), _org_email_domains(get("ORG_EMAIL_DOMAINS"))),
            release_interval_seconds=_int(env, "RELEASE_INTERVAL_SECONDS", 600, 24 * 3600),
            release_processes=_int(env, "RELEASE_PROCESSES", 1, 64),
            group_hold_days=_int(env, "GROUP_HOLD_DAYS", 14, 90, minimum=0),
            oidc_issuer=issuer,
            oidc_client_id=client_id,
            oidc_client_secret=client_secret,
            password_sign_in=_password_sign_in(get("PASSWORD_SIGN_IN")),
            trusted_proxies=_trusted_proxies(get("TRUSTED_PROXIES")),
        )
        if not settings.password_sign_in and not settings.sso_enabled:
            raise ConfigError(
                "PASSWORD_SIGN_IN=off needs single sign-on: set OIDC_ISSUER, OIDC_CLIENT_ID and"
                " OIDC_CLIENT_SECRET too, or nobody could sign in"
            )
        _check_serving_others(settings)
        return settings


def _org_name(name: str | None, domains: tuple[str, ...]) -> str | None:
    if name is not None and (len(name) > 80 or not name.isprintable()):
        raise ConfigError("ORG_NAME must be at most 80 printable characters, such as Example Ltd")
    return name or (domains[0] if domains else None)


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def _check_serving_others(settings: Settings) -> None:
    """An app that others open must mail each colleague their own link (P8), and take only the
    organisation's addresses: without these, it would fall back on the development outbox and
    on accounts from anywhere."""
    if settings.local_only:
        return
    if settings.mail_url is None:
        raise ConfigError(
            "MAIL_URL is needed when PUBLIC_BASE_URL is not localhost: set it to your mail server,"
            " such as smtp://user:password@mail.example.org:587 (without it, mail would only reach"
            " a local development outbox)"
        )
    if not settings.org_email_domains:
        raise ConfigError(
            "ORG_EMAIL_DOMAINS is needed when PUBLIC_BASE_URL is not localhost: set it to the"
            " organisation's email domains, comma-separated, such as example.org,example.com"
        )


def database_url(value: str | None, instance_path: str) -> str:
    """Accept the URLs hosting platforms hand out, and default to SQLite in the instance folder."""
    if value is None:
        return "sqlite:///" + str(Path(instance_path) / "allyloop.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            value = "postgresql+psycopg://" + value[len(prefix) :]
    if not value.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError("DATABASE_URL must be a postgres:// , postgresql:// or sqlite:// URL")
    try:  # the messages never repeat the URL: it may hold a password
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ConfigError(
            "DATABASE_URL is not a URL SQLAlchemy can read: check its form and port, as in"
            " postgres://user:password@host:5432/name or sqlite:////var/lib/allyloop/allyloop.sqlite3"
        ) from None
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError("DATABASE_URL names no SQLite file (sqlite:///path/to/file): in memory, every answer is lost")
    return value


def _trusted_proxies(raw: str | None) -> int:
    if raw is None:
        return 0
    if raw not in {"0", "1", "2", "3"}:
        raise ConfigError(
            f"TRUSTED_PROXIES must be how many reverse proxies stand in front of the app (0 to 3), not {raw!r}"
        )
    return int(raw)


def _int(env: Mapping[str, str], name: str, default: int, maximum: int = 10**6, *, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}")
    return value


def _k(env: Mapping[str, str]) -> int:
    k = _int(env, "RELEASE_MIN_RESPONSES", 5)
    if k < MIN_K:
        raise ConfigError(f"RELEASE_MIN_RESPONSES must be at least {MIN_K}: smaller cohorts could expose one answer")
    return k


def _followup_days(value: str | None) -> tuple[int, int]:
    if value is None:
        return followups.DEFAULT_DAYS
    try:
        return followups.check_days([int(part) for part in value.split(",")])
    except ValueError as exc:
        reason = str(exc) if "days" in str(exc) else "use whole numbers such as 30,90"
        raise ConfigError(f"FOLLOWUP_DAYS: {reason}") from None


def _split(value: str, refusal: str) -> tuple[SplitResult, int | None]:
    """A URL's parts and port, or ``refusal`` if either does not parse (unclosed brackets, a
    port that is not a number from 0 to 65535): whatever reads the URL later would fail on it."""
    try:
        parts = urlsplit(value)
        return parts, parts.port
    except ValueError:
        raise ConfigError(refusal) from None


def _check_redis_url(value: str) -> None:
    hint = "REDIS_URL must be a redis://, rediss:// or unix:// URL such as redis://localhost:6379/0"
    parts, _ = _split(value, hint + " (check its port)")
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(hint)


def _mail_url(value: str | None) -> str | None:
    """smtp://[user:password@]host[:port] or smtps://...; the message never repeats the URL
    (it may hold a password)."""
    if value is None:
        return None
    hint = "MAIL_URL must look like smtp://user:password@mail.example.org:587 or smtps://...:465"
    parts, port = _split(value, hint + " (the port is not a number from 1 to 65535)")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == 0:
        raise ConfigError(hint)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(hint + " (no path or query)")
    return value


def _mail_from(value: str | None) -> str | None:
    if value is not None and ("@" not in value or any(c in value for c in "\r\n")):
        raise ConfigError("MAIL_FROM must be an email address such as Allyloop <allyloop@example.org>")
    return value


def _org_email_domains(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    found: list[str] = []
    for part in value.split(","):
        if not part.strip():
            continue  # a trailing comma is a slip, not a domain
        try:
            name = addresses.domain(part.strip())
        except ValueError as exc:
            raise ConfigError(f"ORG_EMAIL_DOMAINS: {part.strip()!r} is not a domain name: {exc}") from None
        if name not in found:
            found.append(name)
    return tuple(found)


def _oidc(issuer: str | None, client_id: str | None, secret: str | None) -> tuple[str | None, str | None, str | None]:
    """The identity provider's settings, all three or none. Messages name settings, never a
    value: the secret must not reach a log, and the others sit beside it."""
    if issuer is None and client_id is None and secret is None:
        return None, None, None
    if issuer is None or client_id is None or secret is None:
        given = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": secret}
        unset = ", ".join(name for name, value in given.items() if value is None)
        raise ConfigError(
            "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together: set all three to turn on"
            f" single sign-on, or none of them (missing: {unset})"
        )
    return _issuer(issuer), client_id, secret


def _issuer(value: str) -> str:
    """The provider's issuer identifier, kept exactly as given: ID tokens must name it to the
    character. https only, except a provider on this machine (development and tests)."""
    hint = "OIDC_ISSUER must be the identity provider's https URL, such as https://login.example.org/realms/staff"
    parts, _ = _split(value, hint + " (check its port)")
    if not parts.hostname or parts.username is not None or parts.query or parts.fragment:
        raise ConfigError(hint)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(hint + " (http is allowed only for a provider on this machine)")
    if parts.scheme not in ("http", "https"):
        raise ConfigError(hint)
    return value


def _password_sign_in(value: str | None) -> bool:
    if value is None:
        return True
    if value.lower() not in ("on", "off"):
        raise ConfigError("PASSWORD_SIGN_IN must be on (the default) or off")
    return value.lower() == "on"


def _base_url(value: str) -> str:
    hint = "PUBLIC_BASE_URL must be an http(s) URL such as https://allyloop.example.org"
    parts, _ = _split(value, hint + " (check its port)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(hint)
    return value.rstrip("/")


def from_environment(instance_path: str) -> Settings:
    """The settings a process starts with. A wrong one ends the process with its message
    alone: the operator needs the setting's name and the fix, not a traceback."""
    try:
        return Settings.from_env(os.environ, instance_path)
    except ConfigError as exc:
        raise SystemExit(f"Allyloop will not start: {exc}") from None
