"""Questionnaire data files: read, check and cache them.

A file ``<stage>.v<version>.json`` beside this module holds one questionnaire. A later
version may name ``pools_with``, an earlier one whose answers its own read as: each of its
items must then count as that questionnaire's item of the same id (same construct and
answers; wording and which paths ask it may differ), so its answers join the same scopes,
cohorts and views, and results from both versions read together.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from types import MappingProxyType
from typing import cast

from feedback.kinds import PATHS
from feedback.questionnaires.model import (
    CONSTRUCTS,
    ITEM_TYPES,
    NOT_APPLICABLE,
    STAGE_QUESTIONNAIRES,
    Item,
    ItemType,
    Option,
    Questionnaire,
    QuestionnaireFormatError,
    UnknownQuestionnaire,
)

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_QUESTIONNAIRE_ID = re.compile(r"([a-z][a-z0-9_]*)\.v([1-9][0-9]*)")


@functools.cache
def load(questionnaire_id: str) -> Questionnaire:
    """The questionnaire with this id (e.g. ``"immediate.v1"``), read once and cached.

    Raises ``UnknownQuestionnaire`` if there is none and ``QuestionnaireFormatError``
    if its data file is malformed.
    """
    if not isinstance(questionnaire_id, str) or not _QUESTIONNAIRE_ID.fullmatch(questionnaire_id):
        raise UnknownQuestionnaire(f"no questionnaire with id {questionnaire_id!r}")
    source = f"{questionnaire_id}.json"
    resource = resources.files(__package__).joinpath(source)
    if not resource.is_file():
        raise UnknownQuestionnaire(f"no questionnaire with id {questionnaire_id!r}")
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuestionnaireFormatError(f"{source}: not valid UTF-8 JSON ({exc})") from exc
    questionnaire = parse_questionnaire(data, source=source)
    if questionnaire.id != questionnaire_id:
        raise QuestionnaireFormatError(f"{source}: id must be {questionnaire_id!r}")
    return questionnaire


def _check_pools_with(questionnaire: Questionnaire, earlier: Questionnaire, source: str) -> None:
    if earlier.stage != questionnaire.stage or earlier.pools_with != earlier.id:
        raise QuestionnaireFormatError(f"{source}: pools_with must name an earlier version of the same stage")
    for item in questionnaire.items:
        try:
            same = item.counts_as(earlier.item(item.id))
        except KeyError:
            same = False
        if not same:
            raise QuestionnaireFormatError(f"{source}: item {item.id} must count as {earlier.id}'s item of that id")
    if questionnaire.comment_max_chars > earlier.comment_max_chars:
        raise QuestionnaireFormatError(f"{source}: comment.max_chars must not exceed {earlier.id}'s")


def for_stage(stage: str) -> Questionnaire:
    """The questionnaire used for a request stage (``advice``, ``immediate``, ...)."""
    try:
        questionnaire_id = STAGE_QUESTIONNAIRES[stage]
    except (KeyError, TypeError):
        raise UnknownQuestionnaire(f"no questionnaire for stage {stage!r}") from None
    return load(questionnaire_id)


def parse_questionnaire(data: object, *, source: str = "questionnaire") -> Questionnaire:
    """Build a ``Questionnaire`` from decoded JSON, checking that it is well formed.

    Raises ``QuestionnaireFormatError`` naming the file and the offending place.
    """
    try:
        questionnaire = _questionnaire(_Obj(data, source))
    except _FormatError as exc:
        raise QuestionnaireFormatError(f"{source}: {exc}") from None
    if questionnaire.pools_with != questionnaire.id:
        try:
            earlier = load(questionnaire.pools_with)
        except UnknownQuestionnaire:
            raise QuestionnaireFormatError(f"{source}: pools_with names no questionnaire") from None
        _check_pools_with(questionnaire, earlier, source)
    return questionnaire


class _FormatError(Exception):
    pass


class _Obj:
    """A JSON object being read, with its path for error messages."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
            raise _FormatError(f"{path} must be an object")
        self.data = cast(Mapping[str, object], data)
        self.path = path

    def keys(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        required = set(required)
        if missing := required - set(self.data):
            raise _FormatError(f"{self.path} lacks {', '.join(sorted(missing))}")
        if unknown := set(self.data) - required - set(optional):
            raise _FormatError(f"{self.path} has unknown {', '.join(sorted(unknown))}")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def text(self, key: str) -> str:
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise _FormatError(f"{self.where(key)} must be a non-empty string")
        return value

    def name(self, key: str) -> str:
        value = self.text(key)
        if not _NAME.fullmatch(value):
            raise _FormatError(f"{self.where(key)} must match {_NAME.pattern}")
        return value

    def integer(self, key: str, *, minimum: int | None = None) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _FormatError(f"{self.where(key)} must be an integer")
        if minimum is not None and value < minimum:
            raise _FormatError(f"{self.where(key)} must be at least {minimum}")
        return value

    def array(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise _FormatError(f"{self.where(key)} must be a list")
        return value


def _questionnaire(obj: _Obj) -> Questionnaire:
    obj.keys({"id", "stage", "version", "pad_to", "title", "intro", "items", "comment"}, {"pools_with"})
    stage = obj.name("stage")
    version = obj.integer("version", minimum=1)
    questionnaire_id = obj.text("id")
    if questionnaire_id != f"{stage}.v{version}":
        raise _FormatError(f"{obj.where('id')} must be {stage}.v{version}")
    pad_to = obj.integer("pad_to", minimum=256)
    if pad_to % 256:
        raise _FormatError(f"{obj.where('pad_to')} must be a multiple of 256")
    raw_items = obj.array("items")
    if not raw_items:
        raise _FormatError(f"{obj.where('items')} must not be empty")
    items = tuple(_item(_Obj(raw, f"items[{i}]")) for i, raw in enumerate(raw_items))
    _require_unique((item.id for item in items), "item id", obj.where("items"))
    pools_with = obj.text("pools_with") if "pools_with" in obj.data else questionnaire_id
    if not _QUESTIONNAIRE_ID.fullmatch(pools_with):
        raise _FormatError(f"{obj.where('pools_with')} must be a questionnaire id")
    comment = _Obj(obj.data["comment"], obj.where("comment"))
    comment.keys({"prompt", "max_chars"})
    return Questionnaire(
        id=questionnaire_id,
        stage=stage,
        version=version,
        pad_to=pad_to,
        title=obj.text("title"),
        intro=obj.text("intro"),
        items=items,
        comment_prompt=comment.text("prompt"),
        comment_max_chars=comment.integer("max_chars", minimum=1),
        pools_with=pools_with,
    )


def _item(obj: _Obj) -> Item:
    common = {"id", "construct", "type", "prompt"}
    optional = {"paths"}
    item_type = obj.data.get("type")
    if item_type not in ITEM_TYPES:
        raise _FormatError(f"{obj.where('type')} must be one of {', '.join(ITEM_TYPES)}")
    item_id = obj.name("id") if "id" in obj.data else ""
    if item_id:
        obj.path = f"{obj.path} ({item_id})"
    construct = obj.name("construct") if "construct" in obj.data else ""
    if construct not in CONSTRUCTS:
        raise _FormatError(f"{obj.where('construct')} must be one of the known constructs")
    if item_type == "scale":
        obj.keys(common | {"min", "max"}, optional | {"labels", "allow_na"})
        return _scale_item(obj, item_id, construct)
    item_type = cast(ItemType, item_type)
    obj.keys(common | {"options"}, optional | {"exclusive"} if item_type == "multi" else optional)
    options = tuple(_option(_Obj(raw, f"{obj.where('options')}[{i}]")) for i, raw in enumerate(obj.array("options")))
    if not options:
        raise _FormatError(f"{obj.where('options')} must not be empty")
    values = [option.value for option in options]
    _require_unique(values, "option value", obj.where("options"))
    exclusive = obj.array("exclusive")
    _require_unique(exclusive, "value", obj.where("exclusive"))
    if not set(exclusive) <= set(values):
        raise _FormatError(f"{obj.where('exclusive')} must list only option values")
    return Item(
        id=item_id,
        construct=construct,
        type=item_type,
        prompt=obj.text("prompt"),
        options=options,
        exclusive=frozenset(cast(list[str], exclusive)),
        paths=_paths(obj),
    )


def _scale_item(obj: _Obj, item_id: str, construct: str) -> Item:
    low, high = obj.integer("min"), obj.integer("max")
    if low >= high:
        raise _FormatError(f"{obj.path} needs min < max")
    allow_na = obj.data.get("allow_na", False)
    if not isinstance(allow_na, bool):
        raise _FormatError(f"{obj.where('allow_na')} must be true or false")
    labels = _Obj(obj.data.get("labels", {}), obj.where("labels"))
    points = {str(point) for point in range(low, high + 1)}
    allowed = points | {NOT_APPLICABLE} if allow_na else points
    labels.keys((), allowed)
    return Item(
        id=item_id,
        construct=construct,
        type="scale",
        prompt=obj.text("prompt"),
        min=low,
        max=high,
        labels=MappingProxyType({key: labels.text(key) for key in labels.data}),
        allow_na=allow_na,
        paths=_paths(obj),
    )


def _paths(obj: _Obj) -> frozenset[str]:
    paths = obj.array("paths")
    _require_unique(paths, "path", obj.where("paths"))
    if ("paths" in obj.data and not paths) or not set(paths) <= set(PATHS):
        raise _FormatError(f"{obj.where('paths')} must list some of {', '.join(PATHS)}")
    return frozenset(cast(list[str], paths))


def _option(obj: _Obj) -> Option:
    obj.keys({"value", "label"})
    return Option(value=obj.name("value"), label=obj.text("label"))


def _require_unique(values: Iterable[object], what: str, where: str) -> None:
    seen: set[object] = set()
    for value in values:
        if not isinstance(value, str) or value in seen:
            raise _FormatError(f"{where}: each {what} must be a distinct string")
        seen.add(value)
