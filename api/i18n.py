"""The languages the app speaks: English (the default, the language of the code) and French.

Pages take the reader's from the browser's Accept-Language. Emails sent in the background
have no browser to ask: those to an ally (reminders, and the links mailed to the colleagues
they ask) go out in the language the ally last signed in with, kept on the account.
Catalogues live in web/translations (`make messages` refreshes them, `make install`
compiles them).
"""

import dataclasses
import json
from collections.abc import Iterator, Mapping
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Final, TypeVar

from babel.dates import format_date
from babel.support import Translations
from flask import has_request_context, request
from flask_babel import gettext

from feedback.mail import Words
from feedback.wording import Choices, Wording

# The catalogues sit beside the pages, which hold most of the strings; the application reads
# them too, for emails sent in the background and the JSON error pages.
TRANSLATIONS: Final = Path(__file__).resolve().parent.parent / "web" / "translations"
LOCALES: Final = ("en", "fr")
DEFAULT: Final = "en"
T = TypeVar("T")


def reader_language() -> str | None:
    """The best of our languages for this request's reader; None (the default) outside a
    request, or when the browser names none of ours."""
    return request.accept_languages.best_match(LOCALES) if has_request_context() else None


@cache
def words(language: str | None) -> Words:
    """An email's words in ``language`` (a code from LOCALES; anything else reads as the default)."""
    code = language if language in LOCALES else DEFAULT
    catalogue = Translations.load(str(TRANSLATIONS), [code])

    def day(value: date) -> str:
        return format_date(value, "long", locale=code)

    return Words(gettext=catalogue.gettext, ngettext=catalogue.ngettext, day=day)


# Keys of a questionnaire file that hold identifiers and settings rather than wording.
_MACHINE_KEYS: Final = frozenset(
    {
        *("id", "stage", "version", "pad_to", "pools_with", "construct", "type", "value", "exclusive", "paths"),
        *("min", "max", "allow_na", "max_chars"),
    }
)
_MACHINE_KEYS_AS_FIELDS: Final = _MACHINE_KEYS | {"comment_max_chars"}


def extract_questionnaire(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor (babel.cfg) for feedback/questionnaires/*.json: every wording a
    recipient reads (titles, introductions, prompts, option and scale labels) becomes a
    catalogue message, so a questionnaire is translated with the rest of the app."""
    found: list[str] = []

    def walk(node: object, key: str | None) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, name if key != "labels" else "label")
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and key not in _MACHINE_KEYS and node.strip():
            found.append(node)

    walk(json.load(fileobj), None)
    for text in found:
        yield 0, "gettext", text, []


def localized(questionnaire: T) -> T:
    """A questionnaire (or one of its items or options) with its wording in the reader's
    language; identifiers and values stay as they are, so answers read the same in any."""
    changes: dict[str, Any] = {}
    for part in dataclasses.fields(questionnaire):  # type: ignore[arg-type]
        if not part.init or part.name in _MACHINE_KEYS_AS_FIELDS:
            continue
        value = getattr(questionnaire, part.name)
        if isinstance(value, str):
            changes[part.name] = gettext(value) if value else value
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            changes[part.name] = tuple(localized(each) for each in value)
        elif isinstance(value, Mapping):
            changes[part.name] = MappingProxyType({key: gettext(text) for key, text in value.items()})
    return dataclasses.replace(questionnaire, **changes)  # type: ignore[type-var]


def translated(text: str) -> str:
    """Jinja filter: wording that comes from data (a questionnaire's prompt, a kind's name) in
    the reader's language. Unlike ``_()`` in a template it does no %-formatting of its own."""
    return str(gettext(text)) if text else text


def in_words(text: str) -> str:
    """A message from the domain in the reader's language: a ``Wording`` is translated from
    its template, with the values that are Wordings translated too; other text through the
    catalogue (a constant the domain marked with ``N_``), or as it is."""
    if not isinstance(text, Wording):
        return str(gettext(text)) if text else str(text)
    values = {name: _value_in_words(value) for name, value in text.values.items()}
    return str(gettext(text.template)) % values


def _value_in_words(value: object) -> object:
    if isinstance(value, Wording):
        return in_words(value)
    if isinstance(value, Choices):
        quoted = (str(gettext("“%(name)s”")) % {"name": gettext(name)} for name in value)
        return str(gettext(" or ")).join(quoted)
    return value
