"""Flask extensions, created unbound and attached in the app factory."""

import hashlib
import hmac
import json
from collections.abc import Callable, Collection
from typing import Any

import marshmallow as ma
from flask import Flask, Request, current_app, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser, abort
from werkzeug.routing import IntegerConverter, Map

from crypto.tokens import rate_key
from feedback import bounds
from feedback.models import Base


def _no_key() -> str:
    # Every limit names its own key function; this default is never used to key by address.
    return "global"


def client_key() -> str:
    """Limits per client (sign-up, sign-in and reset sprayed across many addresses), keyed by
    the client's address under a key derived from SECRET_KEY: the limiter's storage never
    holds an address in clear, nor a hash anyone without the key could reverse (P1)."""
    address = (request.remote_addr or "").encode()
    return "client:" + hmac.new(current_app.config["CLIENT_KEY"], address, hashlib.sha256).hexdigest()[:32]


def link_rate_key() -> str:
    """Answer calls are limited per link, keyed by a hash of it: no client address is used."""
    token = (request.view_args or {}).get("token", "")
    return "link:" + rate_key("link", str(token))


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
limiter = Limiter(key_func=_no_key, default_limits=[], headers_enabled=True)


def init_limiter(app: Flask, *, passing_by: Collection[str]) -> None:
    """``limiter.init_app``, with the requests to the ``passing_by`` endpoints kept out of
    the limiter's per-request hooks (its check, its headers, its cleanup) altogether.

    For endpoints that carry no limit for that pass to check and are called so often that
    the pass itself shows: an answer's per-link limit counts refusals only, by hand. Even a
    request the limiter exempts paid about a twelfth of an answer's CPU for finding that out.
    """
    registries: list[dict[Any, list[Any]]] = [
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    ]
    before = [list(registry.get(None, ())) for registry in registries]
    limiter.init_app(app)
    for registry, kept in zip(registries, before, strict=True):
        registry[None] = [hook if hook in kept else _passing_by(hook, passing_by) for hook in registry.get(None, ())]


def _passing_by(hook: Callable[..., Any], endpoints: Collection[str]) -> Callable[..., Any]:
    def unless_passing_by(*args: Any) -> Any:
        if request.endpoint in endpoints:
            # before_request: None goes on to the view; after_request: the response as it is;
            # teardown: the return value is not used.
            return args[0] if args else None
        return hook(*args)

    return unless_passing_by


class Parser(FlaskParser):
    """Invalid input is a 400 with the fields named, as the public contract says."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except (RecursionError, ValueError) as exc:  # absurd nesting or numbers json rejects late
            if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
                raise  # webargs turns these into its own 400
            abort(400, messages={"json": ["The JSON body is nested too deeply or has a number too large."]})
        bad = _unstorable(data)
        if bad:
            abort(400, messages={"json": {bad: ["Text may not hold NUL characters or lone surrogates."]}})
        return data


def _unstorable(value: Any, path: str = "") -> str | None:
    """The path of the first string no database can store as text, if any."""
    if isinstance(value, str):
        return path or "_body" if "\x00" in value or not _encodable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = _unstorable(key, where) or _unstorable(item, where)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _unstorable(item, path)
            if found:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


MAX_ID = bounds.MAX_ID


class IdConverter(IntegerConverter):
    """Path ids that fit every database's integer column: larger ones are simply not found."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def id_schema(_converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ErrorDetail(ma.Schema):
    code = ma.fields.String(metadata={"description": "machine-readable, e.g. invalid, gone"})
    message = ma.fields.String(metadata={"description": "for people"})
    # "fields" would shadow Schema.fields, hence the data_key.
    field_errors = ma.fields.Dict(data_key="fields", metadata={"description": "field name -> what is wrong with it"})


class ErrorOut(ma.Schema):
    error = ma.fields.Nested(ErrorDetail)


class Api(SmorestApi):  # type: ignore[misc]
    """Documents the error shape the app really sends (see api/errors.py)."""

    ERROR_SCHEMA = ErrorOut


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = Parser()


__all__ = ["Api", "Blueprint", "db", "init_limiter", "limiter", "migrate", "session"]


def session() -> Session:
    """The request's own Session (not the scoped proxy), as the domain services take it."""
    return db.session()
