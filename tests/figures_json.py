"""Test fixtures written as the API's JSON, read into the typed figures the domain returns."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from feedback import figures
from feedback.figures import slice_from_json, view_from_json


def _day(text: str) -> date:
    return date.fromisoformat(text if len(text) > 7 else text + "-01")


def _side(side: Mapping[str, Any] | None, later: bool) -> figures.Immediate | figures.Later | figures.Suppressed | None:
    if side is None:
        return None
    if side.get("suppressed"):
        suppressed = slice_from_json(side)
        assert isinstance(suppressed, figures.Suppressed)
        return suppressed
    if later:
        return figures.Later(
            side["responses"],
            side.get("lasting"),
            side.get("recurred_less"),
            side.get("ally_checked_back"),
            side.get("complete"),
        )
    return figures.Immediate(
        side["responses"], side.get("wanted"), side.get("signaling"), side.get("mitigation"), side.get("complete")
    )


def _moments(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "immediate": _side(row.get("immediate"), False),
        **{stage: _side(row.get(stage), True) for stage in ("followup", "followup_30", "followup_90")},
    }


def lasting(data: Mapping[str, Any] | None) -> figures.Lasting:
    data = data or {}

    def rows(by: Mapping[str, Any]) -> dict[str, figures.LastingRow]:
        return {
            cell: figures.LastingRow(**_moments(row), path=row["path"], mitigation=row["mitigation"])
            for cell, row in by.items()
        }

    return figures.Lasting(
        overall=figures.Moments(**_moments(data.get("overall", {}))),
        by_path=rows(data.get("by_path", {})),
        by_kind=rows(data.get("by_kind", {})),
    )


def released(data: Mapping[str, Any]) -> figures.Released:
    return figures.Released(
        responses=data.get("responses", 0),
        cohorts=data.get("cohorts", 0),
        questionnaires={qid: view_from_json(view) for qid, view in data.get("questionnaires", {}).items()},
        trend=tuple(figures.Month(m["month"], m["responses"]) for m in data.get("trend", [])),
        comments=tuple(data.get("comments", [])),
        unreadable_comments=data.get("unreadable_comments", 0),
        comments_total=data.get("comments_total", len(data.get("comments", []))),
        lasting=lasting(data.get("lasting")),
    )


def feedback(data: Mapping[str, Any]) -> figures.AllyFeedback:
    return figures.AllyFeedback(k=data["k"], released=released(data["released"]))


def _rate(data: Mapping[str, Any] | None) -> figures.FollowupRate | None:
    if data is None:
        return None
    return figures.FollowupRate(_day(data["as_of"]), data.get("actions"), data.get("followed_up"))


def _load(data: Mapping[str, Any] | None) -> figures.ResponseLoad | None:
    if data is None:
        return None
    periods = tuple(
        figures.Period(_day(p["first_month"]), _day(p["last_month"]), p.get("links"), p["answers"], p["declined"])
        for p in data["periods"]
    )
    return figures.ResponseLoad(_day(data["as_of"]), periods)


def insights(data: Mapping[str, Any]) -> figures.GroupInsights:
    return figures.GroupInsights(
        k=data["k"],
        min_allies=data.get("min_allies", 2),
        released=released(data["released"]),
        followed_up=_rate(data.get("followed_up")),
        response_load=_load(data.get("response_load")),
    )
