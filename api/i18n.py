"""The languages the app speaks: English (the default, the language of the code) and French.

Pages take the reader's from the browser's Accept-Language. Emails sent in the background
have no browser to ask: those to an ally (reminders, and the links mailed to the colleagues
they ask) go out in the language the ally last signed in with, kept on the account.
Catalogues live in web/translations (`make messages` refreshes them, `make install`
compiles them).
"""

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Final, TypeVar

import flask_babel
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
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
        return day_text(value, "long", code)

    return Words(gettext=catalogue.gettext, ngettext=catalogue.ngettext, day=day)


# Numbers and days as the reader's language writes them: every page and email formats them
# here (templates through the filters web/__init__.py registers), never with an f-string.


def _code(language: str | None) -> str:
    return language if language in LOCALES else (reader_language() or DEFAULT)


# The day of the month in a formatted date: a lone 1 (the year has four digits; "01/12" is not it).
_FIRST_OF_MONTH: Final = re.compile(r"(?<!\d)1(?!\d)")


def day_text(value: date, format: str = "long", language: str | None = None) -> str:
    """A day in the reader's language (or ``language``): "December 1, 2026", and in French
    "1er décembre 2026", since French writes the first of a month as an ordinal (CLDR's
    pattern, which Babel follows, says "1 décembre")."""
    code = _code(language)
    text = str(format_date(value, format, locale=code))
    if code == "fr" and value.day == 1:
        text = _FIRST_OF_MONTH.sub("1er", text, count=1)
    return text


def percent_text(value: float, language: str | None = None) -> str:
    """A percentage (0-100, rounded as it should show): "67%" in English, "67 %" in French
    (a no-break space before the sign, so that it never starts a line)."""
    return str(format_percent(Decimal(str(value)) / 100, locale=_code(language)))


def decimal_text(value: float, language: str | None = None) -> str:
    """A mean with one decimal: "3.5" in English, "3,5" in French."""
    return str(format_decimal(value, "0.0", locale=_code(language)))


def number_text(value: int, language: str | None = None) -> str:
    """A count: "1,234" in English, "1 234" in French (a narrow no-break space)."""
    return str(format_decimal(value, locale=_code(language)))


class Count(int):
    """A count that a message writes (``%(num)s``) as ``number_text`` does, and that picks
    the plural form as the number it is."""

    def __str__(self) -> str:
        return number_text(int(self))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ngettext, with the count written as the reader's language writes numbers
    (templates get the same through web/__init__.py)."""
    return str(flask_babel.ngettext(singular, plural, Count(num), **variables))


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
