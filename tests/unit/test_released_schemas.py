"""The API's view of the typed figures: the same JSON as before, every field documented."""

from datetime import date
from typing import Any

from flask import Flask

from api.documents import CellOut, FollowupRateOut, InsightsOut, LoadPeriodOut
from feedback.figures import Cell, FollowupRate, ItemCounts, Period, Suppressed


def test_a_suppressed_cell_is_only_marked_suppressed_and_a_shown_one_has_its_counts() -> None:
    assert CellOut().dump(Suppressed()) == {"suppressed": True}
    shown = CellOut().dump(Cell(5, {"wanted": ItemCounts(5, {"yes": 5})}, complete=False))
    assert shown == {"responses": 5, "items": {"wanted": {"answered": 5, "counts": {"yes": 5}}}, "complete": False}


def test_a_suppressed_rate_and_period_say_so_and_carry_no_number() -> None:
    assert FollowupRateOut().dump(FollowupRate(date(2026, 11, 1))) == {"as_of": "2026-11-01", "suppressed": True}
    shown = FollowupRateOut().dump(FollowupRate(date(2026, 11, 1), actions=9, followed_up=4))
    assert shown == {"as_of": "2026-11-01", "actions": 9, "followed_up": 4, "share": 0.44}
    period = LoadPeriodOut().dump(Period(date(2026, 9, 1), date(2026, 10, 1), None, 5, 1))
    assert period == {
        "first_month": "2026-09",
        "last_month": "2026-10",
        "suppressed": True,
        "answers": 5,
        "declined": 1,
    }


def _schema(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any] | None:
    """The component a property points to, through $ref, allOf or anyOf."""
    for ref in [node, *node.get("allOf", []), *node.get("anyOf", []), *node.get("oneOf", [])]:
        if "$ref" in ref:
            return dict(spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]])
    return None


def test_the_openapi_document_types_every_field_of_both_reads(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    seen: set[str] = set()
    untyped: list[str] = []

    def walk(name: str, schema: dict[str, Any]) -> None:
        if name in seen:
            return
        seen.add(name)
        for field, node in schema.get("properties", {}).items():
            where = f"{name}.{field}"
            inner = node
            while inner.get("type") in ("object", "array") and ("additionalProperties" in inner or "items" in inner):
                inner = inner.get("additionalProperties") or inner["items"]
            target = _schema(spec, inner)
            if target is not None:
                walk(where, target)
            elif inner.get("type") in (None, "object"):
                untyped.append(where)

    for path in ("/api/v1/me/feedback", "/api/v1/groups/{group_id}/insights"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        top = _schema(spec, content["schema"])
        assert top is not None, path
        walk(path, top)
    assert not untyped, untyped
    released = spec["components"]["schemas"]["ReleasedOut"]["properties"]
    assert {"questionnaires", "trend", "comments", "comments_total", "lasting"} <= set(released)
    assert InsightsOut().fields["followed_up"].metadata["description"]
