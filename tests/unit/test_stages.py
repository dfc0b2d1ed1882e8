"""Stages: one definition each, and follow-ups that say the days FOLLOWUP_DAYS sets."""

from feedback import stages
from feedback.questionnaires import STAGE_QUESTIONNAIRES


def same(text: str) -> str:
    return text


def test_a_follow_up_reads_with_the_days_configured_not_a_fixed_30() -> None:
    assert stages.label("followup_30", (14, 60), same) == "After about 14 days"
    assert stages.label("followup_90", (14, 60), same) == "After about 60 days"
    assert stages.due_label("followup_30", (14, 60), same) == "14-day follow-up"
    assert stages.label("immediate", (14, 60), same) == "Right after"


def test_follow_ups_come_due_at_their_configured_offsets_and_the_others_at_once() -> None:
    offsets = {stage.id: stage.offset((14, 60)) for stage in stages.STAGES}
    assert offsets == {"advice": None, "immediate": None, "followup_30": 14, "followup_90": 60}


def test_each_stage_asks_its_own_questionnaire_in_the_order_a_request_is_made() -> None:
    assert stages.IDS == ("advice", "immediate", "followup_30", "followup_90")
    assert dict(STAGE_QUESTIONNAIRES) == {stage.id: stage.questionnaire for stage in stages.STAGES}
    assert stages.LASTING == ("immediate", "followup_30", "followup_90")
