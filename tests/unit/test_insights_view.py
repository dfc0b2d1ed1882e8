"""The lead's insights as tables (web/insights.py): built from released documents only, the
same numbers for page and CSV, any questionnaire shown, suppressed cells kept suppressed."""

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests import figures_json
from web.insights import Insights, csv_rows, safe_cell
from web.insights import build as build_typed


def build(insights: dict[str, Any]) -> Insights:
    return build_typed(figures_json.insights(insights))


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
    assert titles[0] == "Later: does it last?", "no internal id (followup.v1) in a title"
    kind = view.sections[0].tables[0]
    assert "Lasting difference (mean)" in kind.columns
    sponsor = next(row for row in kind.rows if row.label.startswith("Sponsor"))
    assert sponsor.values[kind.columns.index("Lasting difference (mean)")].csv == "3.7"  # (2*2+4*2+5*2)/6


def test_an_unknown_questionnaire_is_shown_by_its_slices_without_failing() -> None:
    view = build(_insights())
    mystery = view.sections[1]
    assert mystery.title == "Other answers" and mystery.details == ()
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
    assert trend == [("Oct 2026", "6"), ("Nov 2026", "5")], "months as the reader's language writes them"
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


def _lasting_insights(followed_up: dict[str, Any] | None) -> dict[str, Any]:
    later = {"responses": 6, "complete": True, "lasting": 3.5, "recurred_less": 0.5, "ally_checked_back": 0.5}
    right_after = {"responses": 8, "complete": False, "wanted": 0.75, "signaling": 4.25, "mitigation": 2.0}
    lasting = {
        "overall": {"immediate": None, "followup": None, "followup_30": None, "followup_90": None},
        "by_path": {
            "signaling": {
                "path": "signaling",
                "mitigation": False,
                "immediate": right_after,
                "followup": later,
                "followup_30": later,
                "followup_90": {"suppressed": True},
            },
            # Released before follow-ups kept their stage: only the pool, no stage cells.
            "access": {"path": "access", "mitigation": True, "immediate": right_after, "followup": later},
        },
        "by_kind": {},
    }
    insights = {**_insights(), "followed_up": followed_up}
    insights["released"] = {**insights["released"], "lasting": lasting}
    return insights


def test_does_it_last_sets_each_paths_own_measure_beside_30_and_90_days_with_words_for_gaps() -> None:
    view = build(_lasting_insights(None))
    assert view.lasting is not None and view.followed_up is None
    (table,) = view.lasting.tables  # no kind rows, no kind table
    signaling, access = (tuple(v.text for v in row.values) for row in table.rows)
    assert signaling == ("8 *", "4.2 of 5", "6", "3.5 of 5", "50%", *["hidden by the release rules"] * 3)
    assert access == ("8 *", "2.0 of 5", *["not enough yet"] * 6)
    assert table.notes[-2].startswith("* Some releases hid this cell")
    assert table.notes[-1].startswith("Follow-ups released before 30 and 90 days were told apart")
    (chart,) = table.charts
    assert [bar.text for bar in chart.categories[0].bars] == [
        "Right after: 4.2 of 5",
        "After about 30 days: 3.5 of 5",
        "After about 90 days: hidden by the release rules",
    ]
    assert not chart.categories[0].bars[2].drawn, "no bar for a suppressed stage, only its words"


def test_does_it_last_names_the_follow_up_days_the_app_is_set_to(make_app: Callable[..., Flask]) -> None:
    with make_app(followup_days=(14, 60)).test_request_context():
        view = build(_lasting_insights(None))
        rows = csv_rows("Group", view)
    assert view.lasting is not None
    (table,) = view.lasting.tables
    assert "After 14 days: responses" in table.columns and "After 60 days: came up less (%)" in table.columns
    (chart,) = table.charts
    assert [bar.text.split(":")[0] for bar in chart.categories[0].bars] == [
        "Right after",
        "After about 14 days",
        "After about 60 days",
    ]
    assert not any("30 days" in cell or "90 days" in cell for row in rows for cell in row)


def test_the_follow_up_rate_is_a_share_of_actions_or_words_in_page_and_csv() -> None:
    shown = build(_lasting_insights({"as_of": "2026-11-01", "actions": 40, "followed_up": 22, "share": 0.55}))
    assert shown.followed_up is not None
    assert shown.followed_up.rows[0].values[0].text == "55% of 40 actions"
    rows = csv_rows("Group", shown)
    assert ("Does it last?", "Did allies follow up?", "Allies who followed up", "Value", "55", "percent") in rows
    assert ("Does it last?", "Does it last? By path", "Signaling", "After 90 days: responses", "suppressed", "") in rows
    hidden = build(_lasting_insights({"as_of": "2026-11-01", "suppressed": True}))
    assert hidden.followed_up is not None
    assert hidden.followed_up.rows[0].values[0].text.startswith("not enough yet (suppressed")
    assert ("Allies who followed up", "Value", "suppressed") in [r[2:5] for r in csv_rows("Group", hidden)]


def _load_insights(periods: list[dict[str, Any]], links: int, answers: int, declined: int) -> dict[str, Any]:
    rate = round(answers / links, 2) if links else None
    load = {"as_of": "2026-11-01", "periods": periods, "links": links, "answers": answers, "declined": declined}
    return {**_insights(), "response_load": {**load, "response_rate": rate}}


def test_a_suppressed_load_period_is_words_with_no_bar_and_the_rate_counts_shown_periods_only() -> None:
    view = build(
        _load_insights(
            [
                {"first_month": "2026-07", "last_month": "2026-09", "links": 40, "answers": 10, "declined": 3},
                {"first_month": "2026-10", "last_month": "2026-10", "suppressed": True, "answers": 5, "declined": 0},
            ],
            links=40,
            answers=10,
            declined=3,
        )
    )
    assert view.load is not None
    by_month, rate = view.load.tables
    assert [row.label for row in by_month.rows] == ["Jul 2026 to Sep 2026", "Oct 2026"]
    assert [v.text for v in by_month.rows[0].values] == ["40", "10", "3", "30%"]
    hidden = by_month.rows[1].values[0]
    assert hidden.csv == "suppressed" and hidden.number is None
    (chart,) = by_month.charts
    assert not chart.categories[1].bars[0].drawn and chart.categories[1].bars[0].text.startswith(
        "Answer links sent: suppressed"
    )
    assert rate.rows[0].values[0].text == "25% of 40 links"
    assert rate.notes[0].startswith("From Jul 2026 to Sep 2026:")
    rows = csv_rows("Group", view)
    assert ("Response load", "Response rate", "Answers released per link sent", "Value", "25", "percent") in rows


def test_no_shown_load_period_says_so_instead_of_a_rate() -> None:
    view = build(
        _load_insights(
            [{"first_month": "2026-09", "last_month": "2026-10", "suppressed": True, "answers": 0, "declined": 0}],
            links=0,
            answers=0,
            declined=0,
        )
    )
    assert view.load is not None
    assert view.load.tables[1].rows[0].values[0].text.startswith("not enough yet (suppressed")
    assert build(_insights()).load is None, "without the figure (no day given), no section"


IMMEDIATE_ITEMS = {
    "wanted": {"answered": 6, "counts": {"yes": 3, "no": 3}},
    "felt_recognised": {"answered": 6, "counts": {"4": 6}},
    "prefer_next": {"answered": 6, "counts": {"fix_process": 3, "make_room": 3}},
}


def _immediate(kinds: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    view = _view(IMMEDIATE_ITEMS, {"kind": kinds, "path": paths})
    return {
        "k": 5,
        "min_allies": 2,
        "released": {"responses": 6, "cohorts": 1, "questionnaires": {"immediate.v1": view}},
    }


def test_suppressed_cells_fold_into_one_line_that_says_why_and_kinds_fall_back_to_paths() -> None:
    shown = {"responses": 6, "items": IMMEDIATE_ITEMS, "complete": True}
    view = build(
        _immediate(
            {"credit": {"suppressed": True}, "sponsor": {"suppressed": True}},
            {"signaling": shown, "access": {"suppressed": True}},
        )
    )
    (section,) = view.sections
    (lead,) = section.tables
    assert lead.id == "immediate-v1-path", "kinds show nothing, paths show some: the page leads with paths"
    assert [row.label for row in lead.open_rows] == ["All released", "Signaling"]
    assert lead.hidden.startswith("Not shown yet: Mitigation: access.")
    assert lead.hidden.endswith("Too few answers yet, or about too few allies: more answers will show them.")
    by_kind = next(table for table in section.details if table.id == "immediate-v1-kind")
    assert by_kind.hidden.startswith("None of the 2 kinds of action shows yet.")
    assert any(row.label.startswith("Credit") for row in by_kind.rows), "the CSV keeps every row"


def test_a_hidden_cell_says_neither_which_rule_hid_it_nor_how_many_it_holds() -> None:
    """Whatever a stored view carries beside "suppressed", the page says only that the cell is
    hidden and why in general: "2 more answers" with k = 5 would say the cell holds 3, and "hidden
    to protect another" that it holds at least k."""
    kinds = {
        "credit": {"suppressed": True, "reason": "allies", "more_allies": 1},
        "sponsor": {"suppressed": True, "reason": "derived", "more_people": 2},
    }
    (section,) = build(_immediate(kinds, {})).sections
    hidden = section.tables[0].hidden
    assert hidden == (
        "None of the 2 kinds of action shows yet. "
        "Too few answers yet, or about too few allies: more answers will show them."
    )


def test_a_tie_is_said_as_a_tie_and_counts_read_in_the_plural_they_need() -> None:
    (section,) = build(_immediate({}, {})).sections
    (preference,) = (t for t in section.featured if t.id.endswith("prefer_next"))
    assert preference.headline == "A tie: Make room for me to speak and Fix the process, chosen 3 times each."
    assert "in 1 release;" in section.intro and "1 releases" not in section.intro


def test_does_it_last_shows_its_overall_row_with_every_answer() -> None:
    insights = _immediate({}, {})
    released = insights["released"]
    released["lasting"] = {
        "overall": {
            "immediate": {"responses": 6, "wanted": 0.5, "signaling": 4.0, "mitigation": None},
            "followup": None,
            "followup_30": {"suppressed": True},
            "followup_90": None,
        },
        "by_path": {},
        "by_kind": {},
    }
    view = build(insights)
    assert view.lasting is not None
    overall = view.lasting.tables[0]
    assert overall.id == "lasting-overall" and overall.columns == ("Right after", "30 days", "90 days")
    answers, wanted = overall.rows
    assert [v.text for v in answers.values] == ["6", "hidden by the release rules", "not yet"]
    assert wanted.values[0].text == "50%"
    assert wanted.values[1].text == "" and wanted.values[2].text == "", "no words where a moment does not ask it"
    # Felt valued is the questionnaire's own, shown open in its section: not said twice.
    assert "Felt valued" not in [row.label for row in overall.rows]


def test_at_a_glance_counts_this_months_releases_from_the_first_month() -> None:
    insights = _load_insights([], links=0, answers=0, declined=0)
    labels = {row.label: row.values[0].text for row in build(insights).summary.rows}  # type: ignore[union-attr]
    assert labels["Answers released"] == "11" and labels["Released in Nov 2026"] == "5"
