"""The arithmetic on released counts, in one place: raw numbers, rounded by whoever shows them.

A measure is keyed by construct: the items that measure, say, "mitigation felt" are the
questionnaire's scale items tagged ``mitigation`` (``scales``), never a list of item ids, so a
new questionnaire version is measured as soon as its items carry their constructs.

A released item is an ``ItemCounts`` (``feedback.figures``): how many answered it, and how
often each value came up. Each function here pools one or more such items and returns a
part and its whole; ``figures.share`` divides them exactly, and the API and the pages round
them their own way.
"""

import re
from collections.abc import Collection, Iterable, Mapping

from feedback.figures import ItemCounts
from feedback.questionnaires import Item, Questionnaire

_NONE = ItemCounts(0, {})

_POINT = re.compile(r"-?[0-9]+")


def scales(questionnaire: Questionnaire) -> dict[str, list[Item]]:
    """construct -> the questionnaire's scale items measuring it, in the questionnaire's order."""
    found: dict[str, list[Item]] = {}
    for item in questionnaire.items:
        if item.type == "scale":
            found.setdefault(item.construct, []).append(item)
    return found


def scale_ids(questionnaire: Questionnaire, construct: str) -> tuple[str, ...]:
    """The ids of the scale items that measure ``construct`` in this questionnaire."""
    return tuple(item.id for item in scales(questionnaire).get(construct, []))


def pick(items: Mapping[str, ItemCounts], *item_ids: str) -> list[ItemCounts]:
    """These items' released counts; an item no one answered adds nothing."""
    return [items.get(item_id, _NONE) for item_id in item_ids]


def scale_sum(released: Iterable[ItemCounts]) -> tuple[int, int]:
    """(sum of the scale points given, answered) over these items.

    answered: answers that were a scale point ("3", "-1"); "na" or any other value is in neither.
    """
    total = answered = 0
    for item in released:
        for value, n in item.counts.items():
            if _POINT.fullmatch(value):
                total += int(value) * int(n)
                answered += int(n)
    return total, answered


def chosen(released: Iterable[ItemCounts], values: Collection[str], *, ignore: Collection[str] = ()) -> tuple[int, int]:
    """(answers that were one of ``values``, answered) over these items.

    answered: the items' ``answered`` (people, not options), less the answers that were one
    of ``ignore``. Exact where an answer holds at most one of ``values`` and of ``ignore``:
    a choice, a scale point, or an exclusive option of a multi item.
    """
    hits = answered = 0
    for item in released:
        counts = item.counts
        hits += sum(counts.get(value, 0) for value in values)
        answered += item.answered - sum(counts.get(value, 0) for value in ignore)
    return hits, answered
