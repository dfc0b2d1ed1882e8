"""Forms on the signed-in pages are read with the API's own marshmallow schemas."""

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError


def load(schema: Schema, form: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a posted form (the CSRF field and submit buttons are not the schema's business)."""
    return dict(schema.load(dict(form), unknown=EXCLUDE))


def errors_of(error: ValidationError) -> dict[str, str]:
    """Field name -> one readable message, for the page's error summary and each field."""
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    return {
        str(field): " ".join(map(str, text)) if isinstance(text, list) else str(text)
        for field, text in messages.items()
    }
