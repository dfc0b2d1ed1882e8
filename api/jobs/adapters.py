"""From the app's config to the plain settings the domain's background functions take."""

from flask import Flask, current_app
from flask_babel import gettext

from api import mail
from api.config import Settings
from api.i18n import words
from feedback import delivery
from feedback.release import run
from feedback.services import accounts


class MissingKey(RuntimeError):
    """Jobs asked to open answers in a process that was given no key-encryption key."""


def release_settings(app: Flask) -> run.ReleaseSettings:
    settings = app.config["ALLYLOOP"]
    return run.ReleaseSettings(
        k=settings.release_min_responses,
        comment_key=app.config["COMMENT_KEY"],
        processes=settings.release_processes,
        pool_from=settings.release_pool_from,
        group_hold_days=settings.group_hold_days,
    )


def kek() -> bytes:
    """The key-encryption key, for the processes that open answers or make keys."""
    key: bytes | None = current_app.config["ALLYLOOP"].key_encryption_key
    if key is None:
        raise MissingKey("KEY_ENCRYPTION_KEY is needed here: set it where jobs run and keys are made")
    return key


def delivery_keys() -> delivery.DeliveryKeys:
    config = current_app.config
    return delivery.DeliveryKeys(recipients=config["RECIPIENT_KEY"], at_rest=config["DELIVERY_KEY"])


def mailer(app: Flask) -> delivery.Mailer:
    """How emails with links are sent: over MAIL_URL, or into the development outbox."""
    settings: Settings = app.config["ALLYLOOP"]
    return delivery.Mailer(
        send=mail.transport(settings, app.instance_path),
        key=app.config["DELIVERY_KEY"],
        app_url=settings.public_base_url,
        k=settings.release_min_responses,
        speak=words,
    )


def letters() -> accounts.Letters:
    """How emails about accounts are queued (sent like the emails with links)."""
    app = current_app
    return accounts.Letters(
        key=app.config["DELIVERY_KEY"], app_url=app.config["ALLYLOOP"].public_base_url, gettext=gettext
    )
