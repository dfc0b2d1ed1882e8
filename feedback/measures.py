"""The arithmetic on released counts, in one place: raw numbers, rounded by whoever shows them.

A released item is ``{"answered": n, "counts": {value: n}}`` (``feedback.release``): how
many answered it, and how often each value came up. Each function here pools one or more
such items and returns a part and its whole; ``ratio`` is how the API divides them, and
the pages word them their own way.
"""

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

Released = Mapping[str, Any]  # one item's released counts: {"answered": n, "counts": {value: n}}

_POINT = re.compile(r"-?[0-9]+")


def pick(items: Mapping[str, Released], *item_ids: str) -> list[Released]:
    """These items' released counts; an item no one answered adds nothing."""
    return [items.get(item_id, {}) for item_id in item_ids]


def scale_sum(released: Iterable[Released]) -> tuple[int, int]:
    """(sum of the scale points given, answered) over these items.

    answered: answers that were a scale point ("3", "-1"); "na" or any other value is in neither.
    """
    total = answered = 0
    for item in released:
        for value, n in item.get("counts", {}).items():
            if _POINT.fullmatch(value):
                total += int(value) * int(n)
                answered += int(n)
    return total, answered


def chosen(released: Iterable[Released], values: Collection[str], *, ignore: Collection[str] = ()) -> tuple[int, int]:
    """(answers that were one of ``values``, answered) over these items.

    answered: the items' ``answered`` (people, not options), less the answers that were one
    of ``ignore``. Exact where an answer holds at most one of ``values`` and of ``ignore``:
    a choice, a scale point, or an exclusive option of a multi item.
    """
    hits = answered = 0
    for item in released:
        counts = item.get("counts", {})
        hits += sum(int(counts.get(value, 0)) for value in values)
        answered += int(item.get("answered", 0)) - sum(int(counts.get(value, 0)) for value in ignore)
    return hits, answered


def ratio(part: int, whole: int) -> float | None:
    """A mean or a share as the API gives it: two decimals, None when the whole is empty."""
    return round(part / whole, 2) if whole else None
