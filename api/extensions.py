"""Flask extensions, created unbound and attached in the app factory."""

from typing import cast

from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser

from feedback.models import Base


def _no_key() -> str:
    # Every limit names its own key function; this default is never used to key by address.
    return "global"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
limiter = Limiter(key_func=_no_key, default_limits=[], headers_enabled=True)


class Parser(FlaskParser):
    """Invalid input is a 400 with the fields named, as the public contract says."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = Parser()


__all__ = ["Api", "Blueprint", "db", "limiter", "migrate", "session"]


def session() -> Session:
    """The request's session, typed as the plain Session the domain services take."""
    return cast(Session, db.session)
