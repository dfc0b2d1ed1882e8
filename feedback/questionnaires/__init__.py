"""Versioned questionnaires (DESIGN §5): the model and its checks (``model``), and the
data files beside this module (``files``). The web reads the no-JavaScript form
(``web/answer_form.py``) and the API describes a questionnaire to clients
(``api/resources/answer/questionnaire.py``); both in the end hand answers to ``validate_answers``.
"""

from feedback.questionnaires.files import for_stage, load, parse_questionnaire
from feedback.questionnaires.model import (
    AUDIENCES,
    CONSTRUCTS,
    ITEM_TYPES,
    MAX_ITEMS_PER_REQUEST,
    NOT_APPLICABLE,
    STAGE_QUESTIONNAIRES,
    Answers,
    AnswerValue,
    Comment,
    InvalidAnswers,
    Item,
    ItemType,
    Option,
    Questionnaire,
    QuestionnaireFormatError,
    UnknownQuestionnaire,
)

__all__ = [
    "AUDIENCES",
    "CONSTRUCTS",
    "ITEM_TYPES",
    "MAX_ITEMS_PER_REQUEST",
    "NOT_APPLICABLE",
    "STAGE_QUESTIONNAIRES",
    "AnswerValue",
    "Answers",
    "Comment",
    "InvalidAnswers",
    "Item",
    "ItemType",
    "Option",
    "Questionnaire",
    "QuestionnaireFormatError",
    "UnknownQuestionnaire",
    "for_stage",
    "load",
    "parse_questionnaire",
]
