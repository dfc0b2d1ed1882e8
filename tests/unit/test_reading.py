"""The plain reading of an ally's pooled results and the next step it suggests."""

from typing import Any

from feedback import reading
from feedback.figures import AllyFeedback
from feedback.reading import Strength, Tally
from tests import figures_json


def _steps(**overrides: Any) -> tuple[str, ...]:
    values: dict[str, Any] = {
        "logged_signaling": 0,
        "logged_mitigation": 0,
        "wanted": Tally(),
        "felt_signaling": Strength(),
        "felt_mitigation": Strength(),
        "answered_now": 0,
        "answered_later": 0,
        "k": 5,
    }
    values.update(overrides)
    return reading.next_steps(**values)


def _feedback(items: dict[str, Any], responses: int = 5, comments: list[str] | None = None) -> AllyFeedback:
    views = {
        qid: {"responses": responses, "cohorts": 1, "declined": 0, "items": released, "slices": {}}
        for qid, released in items.items()
    }
    return figures_json.feedback(
        {
            "k": 5,
            "released": {
                "responses": responses if items else 0,
                "cohorts": 1 if items else 0,
                "items": items,
                "questionnaires": views,
                "comments": comments or [],
                "unreadable_comments": 0,
            },
        }
    )


def test_nothing_to_suggest_with_nothing_logged_or_released() -> None:
    assert _steps() == ()


def test_mostly_signaling_actions_prompt_toward_mitigation() -> None:
    assert _steps(logged_signaling=2, logged_mitigation=1) == (reading.TRY_MITIGATION,)
    assert _steps(logged_signaling=1, logged_mitigation=2) == ()


def test_too_few_actions_are_not_called_a_pattern() -> None:
    assert _steps(logged_signaling=2) == ()


def test_help_that_was_often_not_wanted_suggests_asking_first() -> None:
    unwanted = Tally(answered=5, counts={"yes": 4, "no": 1})
    assert _steps(wanted=unwanted) == (reading.ASK_FIRST,)
    assert _steps(wanted=Tally(answered=10, counts={"yes": 9, "no": 1})) == ()
    assert _steps(wanted=Tally(answered=2, counts={"no": 2}), k=5) == ()  # below k, no pattern


def test_felt_recognised_but_nothing_moved_suggests_going_beyond_signaling() -> None:
    steps = _steps(felt_signaling=Strength(strong=12, rated=15), felt_mitigation=Strength(strong=1, rated=10))
    assert steps == (reading.BEYOND_SIGNALING,)
    assert _steps(felt_signaling=Strength(strong=12, rated=15), felt_mitigation=Strength(strong=5, rated=10)) == ()


def test_mostly_affirmation_is_said_once_not_twice() -> None:
    steps = _steps(
        logged_signaling=3, felt_signaling=Strength(strong=5, rated=5), felt_mitigation=Strength(strong=0, rated=5)
    )
    assert steps == (reading.TRY_MITIGATION,)


def test_answers_about_the_moment_without_follow_ups_suggest_a_follow_up() -> None:
    assert _steps(answered_now=5) == (reading.FOLLOW_UP,)
    assert _steps(answered_now=5, answered_later=5) == ()


def test_nothing_released_reads_as_not_released_yet() -> None:
    view = reading.read(_feedback({}), ["credit"])
    assert not view.released
    assert view.logged_signaling == 1 and view.logged_mitigation == 0
    assert view.wanted.answered == 0


def test_a_release_is_read_by_construct_across_questionnaires() -> None:
    items = {
        "immediate.v1": {
            "wanted": {"answered": 5, "counts": {"yes": 3, "partly": 1, "no": 1}},
            "felt_recognised": {"answered": 5, "counts": {"5": 4, "2": 1}},
            "seen_capable": {"answered": 2, "counts": {"4": 2}},
            "changed_treatment": {"answered": 5, "counts": {"1": 3, "na": 2}},
            "addressed_process": {"answered": 4, "counts": {"yes": 1, "no": 2, "dont_know": 1}},
            "prefer_next": {"answered": 4, "counts": {"fix_process": 3, "make_room": 1}},
            "recognition": {"answered": 3, "counts": {"private": 3}},
        },
        "advice.v1": {"want": {"answered": 5, "counts": {"fix_process": 2, "connect_me": 3}}},
    }
    view = reading.read(_feedback(items, comments=["thanks"]), ["credit", "sponsor", "change_process"])
    assert view.released and view.responses == 5
    assert view.wanted.share("no") == 0.2
    assert view.wanted.labels["partly"] == "Partly"
    # 7 ratings from 5 people (3 questions): people are the most who answered one of them.
    assert view.felt_signaling == Strength(strong=6, rated=7, people=5)
    assert view.felt_mitigation == Strength(strong=1, rated=6, people=5)  # "na", "I don't know": neither way
    assert view.preferences.answered == 9
    assert view.preferences.ranked()[0] == ("fix_process", 5)
    assert view.preferences.leaders() == ["fix_process"]
    assert reading.Tally(2, {"a": 1, "b": 1}).leaders() == ["a", "b"], "a tie is two, not the first by name"
    assert view.preferences.labels["connect_me"] == "Connect me with someone"
    assert view.recognition.counts == {"private": 3}
    assert view.comments == ["thanks"]
    assert view.logged_signaling == 1 and view.logged_mitigation == 2
    assert view.next_steps == (reading.ASK_FIRST, reading.BEYOND_SIGNALING, reading.FOLLOW_UP)


def test_a_questionnaire_this_version_does_not_know_is_skipped_not_fatal() -> None:
    view = reading.read(_feedback({"immediate.v99": {"wanted": {"answered": 5, "counts": {"no": 5}}}}), [])
    assert view.wanted.answered == 0


def test_did_it_last_words_each_moment_and_reads_the_latest_follow_up() -> None:
    lasting = {
        "overall": {
            "immediate": {"responses": 12, "wanted": 0.75, "signaling": 4.12, "mitigation": None},
            "followup": {"responses": 6, "lasting": 2.0},
            "followup_30": {"responses": 6, "complete": False, "lasting": 2.04, "recurred_less": 0.333},
            "followup_90": {"suppressed": True},
        }
    }
    view = reading.did_it_last(figures_json.lasting(lasting))
    now, at_30, at_90 = view.moments
    assert (now.state, now.responses, now.wanted, now.signaling, now.mitigation) == (reading.SHOWN, 12, 75, 4.1, None)
    assert (at_30.state, at_30.lasting, at_30.recurred_less, at_30.partial) == (reading.SHOWN, 2.0, 33, True)
    assert at_90.state == reading.SUPPRESSED and at_90.responses == 0
    assert view.verdict == reading.FADED


def test_did_it_last_is_too_early_without_a_released_follow_up() -> None:
    assert reading.did_it_last(None).verdict == reading.TOO_EARLY
    view = reading.did_it_last(
        figures_json.lasting({"overall": {"immediate": None, "followup_30": None, "followup_90": None}})
    )
    assert [m.state for m in view.moments] == [reading.NOT_YET] * 3 and not view.any_shown


def test_did_it_last_holds_or_is_mixed_by_the_latest_lasting_score() -> None:
    def verdict(at_30: float, at_90: float | None) -> str:
        overall: dict[str, Any] = {"followup_30": {"responses": 5, "complete": True, "lasting": at_30}}
        overall["followup_90"] = None if at_90 is None else {"responses": 5, "complete": True, "lasting": at_90}
        return reading.did_it_last(figures_json.lasting({"overall": overall})).verdict

    assert verdict(4.0, None) == reading.HELD
    assert verdict(4.0, 3.0) == reading.MIXED  # the 90-day answer is the one that says whether it lasted
    assert verdict(2.0, 3.6) == reading.HELD
