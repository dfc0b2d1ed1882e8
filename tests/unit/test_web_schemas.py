"""The pages read their forms with their own schemas; they must refuse exactly what the
JSON API refuses, with the same words, or a person meets two sets of rules."""

from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from api.resources.accounts.schemas import AccountIn, PasswordChangeIn, TokenIn
from api.resources.actions.schemas import ActionIn, RequestIn
from api.resources.groups.schemas import GroupIn, OwnerIn, RoleIn
from api.resources.me.schemas import DeleteIn
from web.schemas import (
    ActionForm,
    DeleteForm,
    GroupForm,
    OwnerForm,
    PasswordChangeForm,
    RequestForm,
    RoleForm,
    SignInForm,
    SignUpForm,
)


def outcome(schema: Schema, data: dict[str, Any]) -> Any:
    try:
        return schema.load(data)
    except ValidationError as error:
        return error.messages


CASES = [
    (SignUpForm, AccountIn, {"email": "sam@example.org", "password": "x" * 9, "name": "Sam"}),
    (SignUpForm, AccountIn, {"email": "sam@example.org", "password": "x" * 201, "name": "n" * 121}),
    (SignUpForm, AccountIn, {"email": "not an address", "password": "x" * 10, "name": ""}),
    (SignInForm, TokenIn, {"email": "e" * 321, "password": "p" * 201}),
    (PasswordChangeForm, PasswordChangeIn, {"current_password": "p" * 201, "password": "short"}),
    (DeleteForm, DeleteIn, {"confirm": "c" * 101}),
    (
        ActionForm,
        ActionIn,
        {"group_id": 2**31, "kind": "nope", "summary": "s" * 201, "occurred_on": "x", "visibility": "x"},
    ),
    (RequestForm, RequestIn, {"stage": "later", "count": 51}),
    (RequestForm, RequestIn, {"stage": "immediate", "recipients": ["a@example.org"] * 51}),
    (RequestForm, RequestIn, {"stage": "immediate"}),
    (GroupForm, GroupIn, {"name": "g" * 121}),
    (RoleForm, RoleIn, {"role": "owner"}),
    (OwnerForm, OwnerIn, {"account_id": 0}),
]


@pytest.mark.parametrize(("page", "api", "data"), CASES)
def test_a_page_refuses_what_the_api_refuses_with_the_same_words(
    page: type[Schema], api: type[Schema], data: dict[str, Any]
) -> None:
    refused = outcome(page(), data)
    assert isinstance(refused, dict), "the page took what it should refuse"
    assert refused == outcome(api(), data)
