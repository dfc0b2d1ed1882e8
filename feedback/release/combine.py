"""A scope's view: the sum of its cohort documents (``combine``), or that sum kept
running one document at a time (``Combined``). Pure: no database, no Flask, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any


def _add_items(into: dict[str, tuple[int, Counter[str]]], items: Mapping[str, Any]) -> None:
    for item_id, item in items.items():
        answered, counts = into.get(item_id, (0, Counter()))
        counts.update({str(value): int(n) for value, n in item["counts"].items()})
        into[item_id] = (answered + int(item["answered"]), counts)


def _items_out(items: Mapping[str, tuple[int, Counter[str]]]) -> dict[str, Any]:
    return {
        item_id: {"answered": answered, "counts": {value: n for value, n in sorted(counts.items())}}
        for item_id, (answered, counts) in sorted(items.items())
    }


Cell = tuple[int, dict[str, tuple[int, Counter[str]]], bool, bool]  # responses, items, ever shown, ever hidden


class Combined:
    """A scope's view as a running sum: ``combine`` taken one cohort document at a time.

    Combining is a sum, so the view of some documents plus one more document is the view of
    them all: ``view()`` after each ``add`` is what ``combine`` gives for every document
    added so far, in any order. What it keeps is that view and ``uncut`` (the dimensions
    some document was not cut by), both JSON-able, so a stored view picks up where it was
    left with ``Combined.resume`` and costs the same to extend after ten cohorts or ten
    thousand.
    """

    __slots__ = ("cells", "cohorts", "declined", "items", "responses", "uncut")

    def __init__(self) -> None:
        self.responses = self.cohorts = self.declined = 0
        self.items: dict[str, tuple[int, Counter[str]]] = {}
        self.cells: dict[str, dict[str, Cell]] = {}  # dimension -> cell -> its running sum
        # Dimensions some document lacked: their responses are in no cell of it, so no
        # cell of the dimension is complete, including cells that first show later.
        self.uncut: set[str] = set()

    @classmethod
    def resume(cls, view: Mapping[str, Any], uncut: Iterable[str]) -> Combined:
        """The running sum that ``view()`` gave as ``view`` with ``uncut`` beside it."""
        combined = cls()
        combined.responses = int(view["responses"])
        combined.cohorts = int(view["cohorts"])
        combined.declined = int(view["declined"])
        _add_items(combined.items, view["items"])
        for dimension, by_cell in view["slices"].items():
            seen = combined.cells[dimension] = {}
            for cell, shown in by_cell.items():
                if shown.get("suppressed"):  # listed by some document, never shown: hidden there
                    seen[cell] = (0, {}, False, True)
                else:
                    cell_items: dict[str, tuple[int, Counter[str]]] = {}
                    _add_items(cell_items, shown["items"])
                    seen[cell] = (int(shown["responses"]), cell_items, True, not shown["complete"])
        combined.uncut = set(uncut)
        return combined

    def add(self, document: Mapping[str, Any]) -> None:
        """Count one more cohort document."""
        dimensions = set(document["slices"])
        if self.cohorts:  # a dimension only this document, or only the earlier ones, were cut by
            self.uncut |= dimensions.symmetric_difference(self.cells)
        self.cohorts += 1
        self.responses += int(document["responses"])
        self.declined += int(document["declined"])
        _add_items(self.items, document["items"])
        for dimension, by_cell in document["slices"].items():
            seen = self.cells.setdefault(dimension, {})
            for cell, shown in by_cell.items():
                n, cell_items, ever_shown, ever_hidden = seen.get(cell, (0, {}, False, False))
                if shown.get("suppressed"):
                    seen[cell] = (n, cell_items, ever_shown, True)
                else:
                    _add_items(cell_items, shown["items"])
                    seen[cell] = (n + int(shown["responses"]), cell_items, True, ever_hidden)

    def view(self) -> dict[str, Any]:
        """The view of every document added (see ``combine``)."""
        slices: dict[str, Any] = {
            dimension: {
                cell: (
                    {
                        "responses": n,
                        "items": _items_out(cell_items),
                        "complete": not (ever_hidden or dimension in self.uncut),
                    }
                    if ever_shown
                    else {"suppressed": True}
                )
                for cell, (n, cell_items, ever_shown, ever_hidden) in sorted(seen.items())
            }
            for dimension, seen in sorted(self.cells.items())
        }
        return {
            "responses": self.responses,
            "cohorts": self.cohorts,
            "declined": self.declined,
            "items": _items_out(self.items),
            "slices": slices,
        }


def combine(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The view of a scope: the sum of its cohort documents.

    A slice cell shows the sum of the cohorts that showed it, with ``complete`` False if
    some cohort hid it, or was not cut by that dimension at all (a document made before
    the dimension existed); a cell no cohort ever showed is ``{"suppressed": True}``.
    """
    combined = Combined()
    for document in documents:
        combined.add(document)
    return combined.view()
