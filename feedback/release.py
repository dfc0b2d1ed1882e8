"""Release rules: how opened responses become cohort documents, and documents a view.

Pure functions and values: no database, no Flask, no I/O.

Responses are released only as whole cohorts. A cohort is every pending response of one
scope, released at once when at least ``k`` are pending (from at least ``min_allies``
distinct allies). Each cohort becomes one immutable *cohort document*, a JSON-able dict;
a view is the sum of a scope's documents (``combine``). Each view change adds a whole
cohort, so no two views differ by fewer than ``k`` responses.

Within a document, slices (by path, kind, visibility, ...) are protected so that nothing
a reader can compute from the visible numbers -- totals, differences of a slice and the
slices nested in it, or any other sum and difference -- covers fewer than ``k``
responses or fewer than ``min_allies`` allies. See ``CohortBuilder.build``.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

MIN_K = 3  # the design never releases fewer than three responses at a time (P3)

Answer = str | int | list[str]
T = TypeVar("T")


@dataclass(frozen=True)
class Opened:
    """One decrypted, validated response, ready to be counted.

    ``answers`` maps item ids to a choice (str), a scale (int, or "na"), or the chosen
    options of a multi item (list of str); ``{}`` is "I'd rather not answer".
    ``slices`` gives the response's cell in every dimension the cohort is cut by.
    """

    answers: Mapping[str, Answer]
    ally_id: int
    slices: Mapping[str, str]


class NotReleasable(Exception):
    """Too few responses, or too few distinct allies, to release them as a cohort."""


def _check_thresholds(k: int, min_allies: int) -> None:
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}")
    if min_allies < 1:
        raise ValueError(f"min_allies must be at least 1, got {min_allies}")


def ready(pending: int, allies: int, *, k: int, min_allies: int) -> bool:
    """Whether ``pending`` responses from ``allies`` distinct allies may form a cohort."""
    _check_thresholds(k, min_allies)
    return pending >= k and allies >= min_allies


def shuffled(items: list[T], rng: random.Random | None = None) -> list[T]:
    """A new list with the items in random order (a system CSPRNG unless ``rng`` is given)."""
    out = list(items)
    (rng if rng is not None else secrets.SystemRandom()).shuffle(out)
    return out


def _values(item_id: str, value: object) -> frozenset[str]:
    """The counted values of one answer: a choice, a scale point, or each chosen option."""
    if isinstance(value, bool):
        raise TypeError(f"answer to {item_id!r} is a bool, not a choice, scale or list")
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, int):
        return frozenset((str(value),))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise TypeError(f"answer to {item_id!r} must be a str, an int or a list of str")


class _Tally:
    """Counts for one set of responses: how many, from which allies, and what they said."""

    __slots__ = ("allies", "answered", "counts", "declined", "responses")

    def __init__(self) -> None:
        self.responses = 0
        self.declined = 0
        self.allies: set[int] = set()
        self.answered: Counter[str] = Counter()
        self.counts: dict[str, Counter[str]] = {}

    def add(self, ally_id: int, answers: Mapping[str, frozenset[str]]) -> None:
        self.responses += 1
        self.allies.add(ally_id)
        if not answers:
            self.declined += 1
        for item_id, values in answers.items():
            self.answered[item_id] += 1
            self.counts.setdefault(item_id, Counter()).update(values)

    def items(self) -> dict[str, Any]:
        return {
            item_id: {
                "answered": self.answered[item_id],
                "counts": {value: n for value, n in sorted(self.counts[item_id].items())},
            }
            for item_id in sorted(self.answered)
        }


Atom = tuple[str, ...]  # a response's cell in every dimension, in dimension order


class _Block:
    """A group of atoms that the document only ever shows together, never apart."""

    __slots__ = ("allies", "atoms", "responses")

    def __init__(self, atoms: tuple[Atom, ...], responses: int, allies: frozenset[int]) -> None:
        self.atoms = atoms
        self.responses = responses
        self.allies = allies

    def cells(self, dimension: int) -> set[str]:
        return {atom[dimension] for atom in self.atoms}


class CohortBuilder:
    """Streams opened responses into counters and builds one cohort document.

    Memory grows with items x options x cells (plus one set of ally ids per cell), never
    with the number of responses. The document never holds an ally id.
    """

    def __init__(self, *, k: int, min_allies: int, dimensions: Sequence[str]) -> None:
        _check_thresholds(k, min_allies)
        if len(set(dimensions)) != len(dimensions):
            raise ValueError("dimensions must be distinct")
        self._k = k
        self._min_allies = min_allies
        self._dimensions = tuple(dimensions)
        self._total = _Tally()
        self._cells: tuple[dict[str, _Tally], ...] = tuple({} for _ in self._dimensions)
        self._atoms: dict[Atom, tuple[int, set[int]]] = {}

    @property
    def count(self) -> int:
        """How many responses have been added."""
        return self._total.responses

    @property
    def allies(self) -> int:
        """How many distinct allies the added responses came from."""
        return len(self._total.allies)

    def add(self, response: Opened) -> None:
        """Count one response. Raises ValueError if it lacks a cell for some dimension."""
        missing = [d for d in self._dimensions if d not in response.slices]
        if missing:
            raise ValueError(f"response has no cell for dimension(s) {missing}")
        atom = tuple(str(response.slices[d]) for d in self._dimensions)
        answers = {item_id: _values(item_id, value) for item_id, value in response.answers.items()}
        self._total.add(response.ally_id, answers)
        for cells, cell in zip(self._cells, atom, strict=True):
            cells.setdefault(cell, _Tally()).add(response.ally_id, answers)
        n, allies = self._atoms.get(atom, (0, set()))
        allies.add(response.ally_id)
        self._atoms[atom] = (n + 1, allies)

    def build(self) -> dict[str, Any]:
        """The cohort document; NotReleasable if below k responses or min_allies allies.

        A slice cell is shown only if it is a union of *blocks*: groups of responses that
        share a cell in every dimension (atoms), merged until each holds at least k
        responses from at least min_allies allies. Every number anyone can compute from
        the visible cells and the total, by any sums and differences, is then the count of
        a union of such blocks. With one dimension this is exactly primary suppression
        (below k, or too few allies) plus complementary suppression of the smallest
        visible cells, ties broken by cell name, until the hidden cells hold k responses
        from min_allies allies. With several dimensions it also stops differencing across
        them (a path minus the kinds nested in it, or "private" minus a kind that is
        always private), so it may hide more.
        """
        if not ready(self.count, self.allies, k=self._k, min_allies=self._min_allies):
            raise NotReleasable(
                f"{self.count} responses from {self.allies} allies; a cohort needs "
                f"{self._k} responses from {self._min_allies} allies"
            )
        visible = self._visible_cells()
        slices: dict[str, Any] = {}
        for index, dimension in enumerate(self._dimensions):
            cells = self._cells[index]
            slices[dimension] = {
                cell: (
                    {"responses": cells[cell].responses, "items": cells[cell].items()}
                    if cell in visible[index]
                    else {"suppressed": True}
                )
                for cell in sorted(cells)
            }
        return {
            "responses": self._total.responses,
            "declined": self._total.declined,
            "items": self._total.items(),
            "slices": slices,
        }

    def _safe(self, block: _Block) -> bool:
        return block.responses >= self._k and len(block.allies) >= self._min_allies

    def _visible_cells(self) -> list[set[str]]:
        """Per dimension, the cells that are unions of safe blocks (see ``build``)."""
        blocks = [_Block((atom,), n, frozenset(allies)) for atom, (n, allies) in sorted(self._atoms.items())]
        # A cell is clean while no block straddles its border; merging only ever dirties.
        clean = [set(cells) for cells in self._cells]

        def dirtied(a: _Block, b: _Block) -> int:
            """How many clean cells merging a and b would dirty (hold one but not the other)."""
            lost = 0
            for d in range(len(self._dimensions)):
                cells_a, cells_b = a.cells(d), b.cells(d)
                if cells_a == cells_b:
                    continue
                for cells in (cells_a, cells_b):
                    if len(cells) == 1 and next(iter(cells)) in clean[d]:
                        lost += 1
            return lost

        while True:
            unsafe = [b for b in blocks if not self._safe(b)]
            if not unsafe:
                break
            target = min(unsafe, key=lambda b: (b.responses, b.atoms))
            # The whole cohort is safe, so an unsafe block always has someone to merge with.
            partner = min(
                (b for b in blocks if b is not target),
                key=lambda b: (dirtied(target, b), self._safe(b), b.responses, b.atoms),
            )
            merged = _Block(
                tuple(sorted(target.atoms + partner.atoms)),
                target.responses + partner.responses,
                target.allies | partner.allies,
            )
            blocks = [b for b in blocks if b is not target and b is not partner] + [merged]
            for d in range(len(self._dimensions)):
                cells = merged.cells(d)
                if len(cells) > 1:
                    clean[d] -= cells
        return clean


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


def combine(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The view of a scope: the sum of its cohort documents.

    A slice cell shows the sum of the cohorts that showed it, with ``complete`` False if
    some cohort hid it; a cell no cohort ever showed is ``{"suppressed": True}``.
    """
    responses = cohorts = declined = 0
    items: dict[str, tuple[int, Counter[str]]] = {}
    # dimension -> cell -> [visible responses, visible items, ever shown, ever hidden]
    cells: dict[str, dict[str, tuple[int, dict[str, tuple[int, Counter[str]]], bool, bool]]] = {}
    for document in documents:
        cohorts += 1
        responses += int(document["responses"])
        declined += int(document["declined"])
        _add_items(items, document["items"])
        for dimension, by_cell in document["slices"].items():
            seen = cells.setdefault(dimension, {})
            for cell, shown in by_cell.items():
                n, cell_items, ever_shown, ever_hidden = seen.get(cell, (0, {}, False, False))
                if shown.get("suppressed"):
                    seen[cell] = (n, cell_items, ever_shown, True)
                else:
                    _add_items(cell_items, shown["items"])
                    seen[cell] = (n + int(shown["responses"]), cell_items, True, ever_hidden)
    slices: dict[str, Any] = {
        dimension: {
            cell: (
                {"responses": n, "items": _items_out(cell_items), "complete": not ever_hidden}
                if ever_shown
                else {"suppressed": True}
            )
            for cell, (n, cell_items, ever_shown, ever_hidden) in sorted(seen.items())
        }
        for dimension, seen in sorted(cells.items())
    }
    return {
        "responses": responses,
        "cohorts": cohorts,
        "declined": declined,
        "items": _items_out(items),
        "slices": slices,
    }
