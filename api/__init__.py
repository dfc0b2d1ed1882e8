"""The app factory: config, extensions, blueprints, error shape, privacy headers."""

from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from api import cli, errors, logs, postgres, resources, sqlite, unit
from api.config import ConfigError, Settings, from_environment
from api.extensions import Api, IdConverter, db, id_schema, init_limiter, migrate
from api.jobs.inprocess import Background
from crypto.atrest import derive_key

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


class Allyloop(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """Log where it broke, never the request path (it may hold a link token) or the message."""
        logs.log_exception(self.logger, request.endpoint, exc_info)


def _limits_storage(redis_url: str | None) -> str:
    """The rate limits' storage: Redis when there is one (limits spells a socket redis+unix://)."""
    if redis_url is None:
        return "memory://"
    return "redis+" + redis_url if redis_url.startswith("unix://") else redis_url


def create_app(settings: Settings | None = None, *, instance_path: str | None = None) -> Flask:
    # static_folder=None: the pages' CSS and JS are served by the web blueprint at /static.
    app = Allyloop(
        "allyloop",
        instance_path=instance_path or str(INSTANCE),
        root_path=str(Path(__file__).parent),
        static_folder=None,
    )
    settings = settings or from_environment(app.instance_path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    on_sqlite = settings.database_url.startswith("sqlite")
    app.config.update(
        ALLYLOOP=settings,
        SECRET_KEY=settings.secret_key,
        COMMENT_KEY=derive_key(settings.secret_key, "released-comments"),
        # Recipients of delivered links as keyed hashes (P8), and their emails while they wait.
        RECIPIENT_KEY=derive_key(settings.secret_key, "recipients"),
        DELIVERY_KEY=derive_key(settings.secret_key, "deliveries"),
        CLIENT_KEY=derive_key(settings.secret_key, "rate-limited-clients"),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # A SQLite file never drops a connection; a server's are pinged by api/postgres.py.
        SQLALCHEMY_ENGINE_OPTIONS={"hide_parameters": True},
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TESTING=settings.testing,
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=_limits_storage(settings.redis_url),
        # With Redis away, limits fall back to memory rather than failing the request.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        # A Redis that is away costs a request half a second at most, never a hang.
        RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if settings.redis_url else {},
        ORG_NAME=settings.org_name,
        API_TITLE="Allyloop",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_REDOC_PATH=None,
        OPENAPI_SWAGGER_UI_PATH=None,
        JSON_SORT_KEYS=False,
    )
    logs.install()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    with app.app_context():
        (sqlite if on_sqlite else postgres).tune(db.engine)
    init_limiter(app, passing_by=resources.PASSING_THE_LIMITER_BY)
    app.url_map.converters["id"] = IdConverter
    api = Api(app)
    api.register_converter(IdConverter, id_schema)
    import web  # the one place api reaches into web: the pages' blueprint is registered here

    resources.register(api)
    web.register(app)
    errors.register(app)  # after Api, so our error shape wins over flask-smorest's
    unit.install(app)  # each request's writes commit when it ends well, and roll back otherwise
    cli.register(app)
    background = app.extensions["allyloop.jobs"] = Background(app)
    if settings.redis_url is None and not settings.jobs_inline:
        app.before_request(background.start)  # not at start-up: CLI commands must not run jobs
    app.after_request(_privacy_headers)
    if settings.trusted_proxies:
        # Behind N reverse proxies the client is the address the outermost one saw: without
        # this, every colleague shares the proxy's address and its per-client limits.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    return app


def _privacy_headers(response: Response) -> Response:
    # No referrer leaks a link; nothing is cached; nothing runs or loads from elsewhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


__all__ = ["ConfigError", "create_app"]
