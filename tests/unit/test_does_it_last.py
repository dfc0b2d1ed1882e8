""" "Does it last?" read from released views: old cohorts without stage slices still count."""

from feedback.figures import Later, view_from_json
from feedback.release.cohorts import CohortBuilder
from feedback.release.combine import combine
from feedback.release.opening import cells_of
from feedback.release.rules import Opened
from feedback.release.run import DIMENSIONS, STAGE_DIMENSIONS
from feedback.services.results import does_it_last


def cohort(stages: list[str], dimensions: tuple[str, ...], lasting: int) -> dict[str, object]:
    builder = CohortBuilder(k=3, min_allies=1, dimensions=dimensions)
    for ally, stage in enumerate(stages):
        slices = cells_of("credit", "public", stage)
        builder.add(Opened(answers={"lasting_difference": lasting}, ally_id=ally, slices=slices, person=ally))
    return builder.build()


def test_a_cohort_released_before_stage_slices_counts_in_the_pool_and_marks_stages_partial() -> None:
    older = cohort(["followup_30"] * 4, DIMENSIONS, lasting=2)  # stored before responses kept a stage
    newer = cohort(["followup_30"] * 3 + ["followup_90"] * 3, DIMENSIONS + STAGE_DIMENSIONS, lasting=4)
    lasting = does_it_last({"followup.v1": view_from_json(combine([older, newer]))})
    assert isinstance(lasting.overall.followup, Later) and isinstance(lasting.overall.followup_30, Later)
    assert lasting.overall.followup.responses == 10
    assert lasting.overall.followup_30.responses == 3
    assert lasting.overall.followup_30.complete is False, "the older cohort is in no stage cell"
    credit = lasting.by_kind["credit"]
    assert isinstance(credit.followup, Later) and isinstance(credit.followup_90, Later)
    assert credit.followup.lasting == 3.2 and credit.followup_90.lasting == 4.0


def test_only_old_cohorts_give_the_pool_and_no_stage_cells() -> None:
    view = view_from_json(combine([cohort(["followup_90"] * 5, DIMENSIONS, lasting=5)]))
    lasting = does_it_last({"followup.v1": view})
    assert lasting.overall.followup_30 is None and lasting.overall.followup_90 is None
    signaling = lasting.by_path["signaling"]
    assert isinstance(signaling.followup, Later)
    assert signaling.followup.lasting == 5.0 and signaling.followup_30 is None


def test_answers_stored_without_a_stage_release_in_an_unknown_stage_cell() -> None:
    assert cells_of("sponsor", "private", None)["stage_path"] == "followup:access"
