"""Reading posted forms: the schemas are in web/schemas.py, these helpers shared by every page."""

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError


def load(schema: Schema, form: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a posted form (the CSRF field and submit buttons are not the schema's business).

    A NUL character is refused here, for every form: no database stores it in text, so it
    must never reach one (PostgreSQL would fail the request).
    """
    data = dict(form)
    unstorable = sorted(name for name, value in data.items() if isinstance(value, str) and "\x00" in value)
    if unstorable:
        raise ValidationError({name: ["This field holds a character that cannot be stored."] for name in unstorable})
    return dict(schema.load(data, unknown=EXCLUDE))


def errors_of(error: ValidationError) -> dict[str, str]:
    """Field name -> one readable message, for the page's error summary and each field."""
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    return {
        str(field): " ".join(map(str, text)) if isinstance(text, list) else str(text)
        for field, text in messages.items()
    }


# Addresses as people paste them: one a line, or between commas, semicolons or spaces; a
# mail program's "Sam Lee <sam@example.org>" gives the address in the angle brackets.
_BETWEEN_ADDRESSES = re.compile(r"[,;\n]+")
_ANGLED = re.compile(r"<([^<>]*)>")


def addresses(text: str) -> list[str]:
    """The email addresses in a pasted list, in the order typed."""
    found: list[str] = []
    for part in _BETWEEN_ADDRESSES.split(text):
        found.extend(_ANGLED.findall(part) or part.split())
    return [address.strip() for address in found if address.strip()]
