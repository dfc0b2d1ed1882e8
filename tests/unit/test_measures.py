"""Means and shares of released counts: the parts and wholes every page, API and CSV divides."""

from api.documents import ImmediateOut
from feedback.figures import Immediate, ItemCounts, items_from_json, share
from feedback.measures import chosen, pick, scale_sum

ITEMS = items_from_json(
    {
        "felt_recognised": {"answered": 4, "counts": {"2": 1, "5": 3}},
        "changed_treatment": {"answered": 5, "counts": {"1": 2, "na": 3}},
        "wanted": {"answered": 6, "counts": {"yes": 3, "partly": 1, "no": 1, "unsure": 1}},
        "recurred": {"answered": 5, "counts": {"less": 2, "same": 1, "not_applicable": 2}},
        "downsides": {"answered": 4, "counts": {"none": 2, "spoken_for": 2, "unwanted_attention": 1}},
    }
)


def test_a_scale_sum_adds_the_points_given_and_counts_those_who_gave_one() -> None:
    assert scale_sum(pick(ITEMS, "felt_recognised")) == (17, 4)


def test_na_and_skipped_answers_are_not_in_a_mean() -> None:
    assert scale_sum(pick(ITEMS, "changed_treatment")) == (2, 2)
    assert scale_sum(pick(ITEMS, "not_released")) == (0, 0)


def test_a_scale_sum_pools_several_items() -> None:
    assert scale_sum(pick(ITEMS, "felt_recognised", "changed_treatment")) == (19, 6)


def test_negative_scale_points_count_and_other_values_do_not() -> None:
    released = ItemCounts(4, {"-2": 1, "1": 1, "--1": 1, "yes": 1})
    assert scale_sum([released]) == (-1, 2)


def test_a_share_is_of_those_who_answered_the_item() -> None:
    assert chosen(pick(ITEMS, "wanted"), ("yes",)) == (3, 6)
    assert chosen(pick(ITEMS, "wanted"), ("yes", "partly")) == (4, 6)


def test_a_share_ignores_the_values_it_is_told_to_ignore() -> None:
    assert chosen(pick(ITEMS, "recurred"), ("not_at_all", "less"), ignore=("not_applicable",)) == (2, 3)


def test_a_share_of_a_multi_item_counts_people_not_options() -> None:
    hits, answered = chosen(pick(ITEMS, "downsides"), ("none",))
    assert (hits, answered) == (2, 4)
    assert answered - hits == 2, "two people named a downside, though they chose three options"


def test_a_share_pools_items_from_several_questionnaires() -> None:
    advice = ItemCounts(2, {"5": 1, "na": 1})
    immediate = ItemCounts(3, {"4": 2, "2": 1})
    assert chosen([advice, immediate], ("4", "5"), ignore=("na",)) == (3, 4)


def test_an_item_no_one_answered_has_an_empty_whole() -> None:
    assert chosen(pick(ITEMS, "not_released"), ("yes",)) == (0, 0)


def test_a_share_is_exact_and_none_when_nothing_was_answered() -> None:
    assert share(*chosen(pick(ITEMS, "wanted"), ("yes", "partly"))) == 4 / 6
    assert share(*scale_sum(pick(ITEMS, "not_released"))) is None, "no answers is not a mean of 0"


def test_the_api_rounds_to_two_decimals_at_the_edge() -> None:
    out = ImmediateOut().dump(Immediate(responses=6, wanted=4 / 6, signaling=None, mitigation=3.125))
    assert out == {"responses": 6, "wanted": 0.67, "signaling": None, "mitigation": 3.12}


def test_mitigation_felt_is_the_same_scales_in_every_immediate_version() -> None:
    """Measures are found by construct, so immediate.v2 is measured like v1, not dropped."""
    from feedback.measures import scale_ids
    from feedback.questionnaires import load

    assert scale_ids(load("immediate.v1"), "mitigation") == ("changed_treatment", "gave_access")
    assert scale_ids(load("immediate.v2"), "mitigation") == ("changed_treatment", "gave_access")
    assert scale_ids(load("immediate.v2"), "signaling") == ("felt_recognised", "seen_capable", "safer_to_speak")
    assert scale_ids(load("followup.v1"), "mitigation") == ()
