"""The lead's insights as tables (web/insights.py): built from released documents only, the
same numbers for page and CSV, any questionnaire shown, suppressed cells kept suppressed."""

from typing import Any

from web.insights import build, csv_rows, safe_cell

FOLLOWUP_ITEMS = {
    "lasting_difference": {"answered": 6, "counts": {"2": 2, "4": 2, "5": 2}},
    "recurred": {"answered": 4, "counts": {"less": 3, "more": 1}},
}


def _view(items: dict[str, Any], slices: dict[str, Any], responses: int = 6) -> dict[str, Any]:
    return {"responses": responses, "cohorts": 1, "declined": 0, "items": items, "slices": slices}


def _insights() -> dict[str, Any]:
    kinds = {
        "sponsor": {"responses": 6, "items": FOLLOWUP_ITEMS, "complete": True},
        "credit": {"suppressed": True},
    }
    questionnaires = {
        "followup.v1": _view(FOLLOWUP_ITEMS, {"kind": kinds}),
        "mystery.v9": _view(
            {"whatever": {"answered": 5, "counts": {"x": 5}}}, {"kind": {"credit": {"suppressed": True}}}, 5
        ),
    }
    return {
        "k": 5,
        "min_allies": 2,
        "released": {
            "responses": 11,
            "cohorts": 2,
            "questionnaires": questionnaires,
            "items": {qid: v["items"] for qid, v in questionnaires.items()},
            "trend": [{"month": "2026-10", "responses": 6}, {"month": "2026-11", "responses": 5}],
            "comments": ["more of this"],
            "unreadable_comments": 0,
        },
    }


def test_a_follow_up_questionnaire_gets_its_own_does_it_last_section() -> None:
    view = build(_insights())
    titles = [section.title for section in view.sections]
    assert titles[0] == "Later: does it last? (followup.v1)"
    kind = view.sections[0].tables[0]
    assert "Lasting difference (mean)" in kind.columns
    sponsor = next(row for row in kind.rows if row.label.startswith("Sponsor"))
    assert sponsor.values[kind.columns.index("Lasting difference (mean)")].csv == "3.7"  # (2*2+4*2+5*2)/6


def test_an_unknown_questionnaire_is_shown_by_its_slices_without_failing() -> None:
    view = build(_insights())
    mystery = view.sections[1]
    assert mystery.title.endswith("(mystery.v9)") and mystery.details == ()
    assert [row.values[0].csv for row in mystery.tables[0].rows] == ["5", "suppressed"]


def test_the_csv_has_every_number_of_the_tables_and_suppressed_cells_as_words() -> None:
    view = build(_insights())
    rows = csv_rows("Group", view)
    credit = [r for r in rows if r[2].startswith("Credit")]
    assert credit and all(r[4] == "suppressed" for r in credit)
    recurred_less = next(
        r for r in rows if r[1] == "Since then, has the problem come up again?" and r[2] == "Less often"
    )
    assert recurred_less[3:] == ("Answers", "3", "responses")
    trend = [(r[2], r[4]) for r in rows if r[1] == "Trend by month"]
    assert trend == [("2026-10", "6"), ("2026-11", "5")]
    assert not any("more of this" in cell for row in rows for cell in row), "comments are not exported"


def test_nothing_released_builds_an_empty_view() -> None:
    view = build({"k": 5, "min_allies": 2, "released": {"responses": 0, "cohorts": 0, "items": {}, "trend": []}})
    assert view.responses == 0 and view.sections == () and view.trend is None


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused() -> None:
    assert [safe_cell(t) for t in ("=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "plain", "")] == [
        "'=1+1",
        "'+A1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
    ]
