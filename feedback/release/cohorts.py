"""Cohort documents: one cohort's opened responses counted, its slices protected.

``CohortBuilder`` counts a cohort and ``build``s its document under the rules in
``feedback.release.rules``. Pure: no database, no Flask, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from fractions import Fraction
from math import lcm
from typing import Any, cast

from feedback.release.rules import NotReleasable, Opened, PoolRule, Voice, check_thresholds, safe_voices

Chosen = tuple[str, str | int]  # (item id, a value counted for it)


def _chosen(answers: Mapping[str, object]) -> list[Chosen]:
    """Each value one response counts: a choice, a scale point, or each chosen option once.

    Raises TypeError for anything else. type() rather than isinstance: exact types are what
    JSON gives, it refuses bool as an int for free, and this is the hottest loop of a release.
    """
    chosen: list[Chosen] = []
    for item_id, value in answers.items():
        kind = type(value)
        if kind is str or kind is int:
            chosen.append((item_id, cast(str | int, value)))
        elif kind is list and all(type(v) is str for v in cast(list[object], value)):
            chosen.extend([(item_id, option) for option in set(cast(list[str], value))])
        else:
            raise TypeError(f"answer to {item_id!r} must be a str, an int or a list of str, not {kind.__name__}")
    return chosen


class _Tally:
    """Counts for one set of responses: how many, from which allies, and what they said."""

    __slots__ = ("answered", "counts", "declined", "responses", "voices")

    def __init__(self) -> None:
        self.responses = 0
        self.declined = 0
        # Who answered: the rules count distinct voices, never answers per voice. Only an
        # atom's tally keeps them (see ``CohortBuilder._voices``); answers to ally-held links have none.
        self.voices: set[Voice] = set()
        self.answered: Counter[str] = Counter()  # responses per item answered
        # Flat, so that each response is counted by Counter.update's C loop; a scale point
        # is kept as the int it came as until the document is written.
        self.counts: Counter[Chosen] = Counter()

    def add(self, voice: Voice | None, answers: Mapping[str, object]) -> None:
        chosen = _chosen(answers)  # may refuse, before anything is counted
        self.responses += 1
        if voice is not None:
            self.voices.add(voice)
        if not answers:
            self.declined += 1
        self.answered.update(answers.keys())
        self.counts.update(chosen)

    def merge(self, other: _Tally, *, voices: bool = True) -> None:
        self.responses += other.responses
        self.declined += other.declined
        if voices:
            self.voices |= other.voices
        self.answered.update(other.answered)
        self.counts.update(other.counts)

    def items(self) -> dict[str, Any]:
        counts: dict[str, Counter[str]] = {item_id: Counter() for item_id in self.answered}
        for (item_id, value), n in self.counts.items():
            counts[item_id][str(value)] += n
        return {
            item_id: {"answered": self.answered[item_id], "counts": dict(sorted(counts[item_id].items()))}
            for item_id in sorted(self.answered)
        }


Atom = tuple[str, ...]  # a response's cell in every dimension, in dimension order

# Work (atom updates) after which the audit gives up, about a second; see _visible_cells.
_AUDIT_BUDGET = 2_000_000


class _TooHard(Exception):
    """The audit's search ran past its budget."""


class _Span:
    """All sums and differences of some 0/1 rows over atoms: exact reduced row echelon form."""

    def __init__(self, rows: Iterable[Sequence[int]]) -> None:
        self.basis: list[tuple[int, list[Fraction]]] = []  # (pivot, row with 1 there, 0 at other pivots)
        for row in rows:
            reduced = self.reduce([Fraction(x) for x in row])
            pivot = next((j for j, x in enumerate(reduced) if x), None)
            if pivot is None:
                continue
            reduced = [x / reduced[pivot] for x in reduced]
            self.basis = [
                (p, [x - base[pivot] * y for x, y in zip(base, reduced, strict=True)]) for p, base in self.basis
            ]
            self.basis.append((pivot, reduced))

    def reduce(self, row: list[Fraction]) -> list[Fraction]:
        for pivot, base in self.basis:
            if row[pivot]:
                factor = row[pivot]
                row = [x - factor * y for x, y in zip(row, base, strict=True)]
        return row

    def contains(self, row: Sequence[int]) -> bool:
        return not any(self.reduce([Fraction(x) for x in row]))


def _hidden_group(
    span: _Span, allies: Sequence[set[Voice]], safe: Callable[[set[Voice]], bool]
) -> frozenset[int] | None:
    """Atoms whose combined count follows from ``span`` yet is below k recipients or
    min_allies allies; None if there are none. Raises _TooHard past the budget.

    ``allies`` gives each atom's voices; ``safe`` judges a group by them.
    A 0/1 vector in the span is fixed by its values at the pivots, so this chooses those
    values depth first. It drops a branch as soon as some atom can no longer come out 0
    or 1, or once the atoms already settled at 1 are safe on their own (adding atoms only
    ever adds responses and allies).
    """
    rows = [row for _, row in span.basis]
    atoms = range(len(allies))
    # Column j in integers: 0 and 1 become 0 and scale[j].
    scale = [lcm(*(row[j].denominator for row in rows)) for j in atoms]
    coef = [[int(row[j] * scale[j]) for j in atoms] for row in rows]
    touches = [[j for j in atoms if line[j]] for line in coef]
    last = {j: i for i, line in enumerate(touches) for j in line}
    # low[i][j] .. high[i][j]: what the pivots from i on can still add to column j.
    low = [[0] * len(allies) for _ in range(len(rows) + 1)]
    high = [[0] * len(allies) for _ in range(len(rows) + 1)]
    for i in reversed(range(len(rows))):
        low[i] = [a + min(c, 0) for a, c in zip(low[i + 1], coef[i], strict=True)]
        high[i] = [a + max(c, 0) for a, c in zip(high[i + 1], coef[i], strict=True)]
    partial = [0] * len(allies)
    steps = 0

    def search(i: int, ones: frozenset[int], who: set[Voice]) -> frozenset[int] | None:
        nonlocal steps
        steps += 1 + (len(touches[i]) if i < len(rows) else 0)
        if steps > _AUDIT_BUDGET:
            raise _TooHard
        if safe(who):
            return None
        if i == len(rows):
            return ones if ones else None
        for value in (1, 0):
            if value:
                for j in touches[i]:
                    partial[j] += coef[i][j]
            new: list[int] = []  # atoms settled at 1 by this choice
            for j in touches[i]:
                now, lo, hi = partial[j], partial[j] + low[i + 1][j], partial[j] + high[i + 1][j]
                if last[j] == i:
                    if now not in (0, scale[j]):
                        break
                    if now:
                        new.append(j)
                elif not (lo <= 0 <= hi or lo <= scale[j] <= hi):
                    break
            else:
                found = search(i + 1, ones.union(new), who.union(*(allies[a] for a in new)))
                if found is not None:
                    return found
            if value:
                for j in touches[i]:
                    partial[j] -= coef[i][j]
        return None

    return search(0, frozenset(), set())


class CohortBuilder:
    """Streams opened responses into counters and builds one cohort document.

    Memory grows with items x options x cells, plus the voices of each atom (recipients,
    not answers: one per colleague asked). A cell's voices are the union of its atoms',
    made when a rule asks and dropped after: kept for the total and every cell, they held
    each of 100,000 recipients five times over. The document never holds an ally id or a voice.
    """

    def __init__(self, *, k: int, min_allies: int, dimensions: Sequence[str], each_ally: bool = False) -> None:
        check_thresholds(k, min_allies)
        if len(set(dimensions)) != len(dimensions):
            raise ValueError("dimensions must be distinct")
        self._k = k
        self._rule = PoolRule(min_allies=min_allies, each_ally=each_ally)
        self._dimensions = tuple(dimensions)
        # Responses are tallied once, by atom (their cell in every dimension); the total
        # and each cell are sums of atoms, made when the document is built.
        self._by_atom: dict[Atom, _Tally] = {}
        self._shares: Counter[int] = Counter()  # responses per ally, across the cohort
        self._people: dict[Hashable, int] = {}  # each recipient as a small number, to keep voices small
        self._total = _Tally()
        self._cells: tuple[dict[str, _Tally], ...] = ()
        self._cell_atoms: tuple[dict[str, list[Atom]], ...] = ()  # the atoms each cell sums
        self._atoms: dict[Atom, set[Voice]] = {}  # each atom's voices

    @property
    def count(self) -> int:
        """How many responses have been added."""
        return self._shares.total()

    @property
    def allies(self) -> int:
        """How many distinct allies the added responses came from."""
        return len(self._shares)

    def add(self, response: Opened) -> None:
        """Count one response. Raises ValueError if it lacks a cell for some dimension."""
        slices = response.slices
        try:
            atom = tuple([str(slices[d]) for d in self._dimensions])
        except KeyError:
            missing = [d for d in self._dimensions if d not in slices]
            raise ValueError(f"response has no cell for dimension(s) {missing}") from None
        tally = self._by_atom.get(atom)
        if tally is None:
            tally = self._by_atom[atom] = _Tally()
        voice = None
        if response.person is not None:
            voice = (response.ally_id, self._people.setdefault(response.person, len(self._people)))
        tally.add(voice, response.answers)
        self._shares[response.ally_id] += 1

    def merge(self, other: CohortBuilder) -> None:
        """Add what ``other`` counted (a batch counted elsewhere, by the same rules); it is used up."""
        if (other._k, other._rule, other._dimensions) != (self._k, self._rule, self._dimensions):
            raise ValueError("only builders with the same rules and dimensions merge")
        if other._people:  # another builder numbered its recipients its own way
            renumber = {n: self._people.setdefault(person, len(self._people)) for person, n in other._people.items()}
            for tally in other._by_atom.values():
                tally.voices = {(ally, renumber[cast(int, n)]) for ally, n in tally.voices}
        for atom, tally in other._by_atom.items():
            mine = self._by_atom.get(atom)
            if mine is None:
                self._by_atom[atom] = tally
            else:
                mine.merge(tally)
        self._shares.update(other._shares)
        other._by_atom, other._shares, other._people = {}, Counter(), {}

    def _sum_atoms(self) -> None:
        """Fold the atom tallies into the total and the cells of each dimension (their counts;
        their voices stay with the atoms)."""
        self._total = _Tally()
        cells: tuple[dict[str, _Tally], ...] = tuple({} for _ in self._dimensions)
        cell_atoms: tuple[dict[str, list[Atom]], ...] = tuple({} for _ in self._dimensions)
        for atom, tally in self._by_atom.items():
            self._total.merge(tally, voices=False)
            for by_cell, atoms, cell in zip(cells, cell_atoms, atom, strict=True):
                by_cell.setdefault(cell, _Tally()).merge(tally, voices=False)
                atoms.setdefault(cell, []).append(atom)
        self._cells, self._cell_atoms = cells, cell_atoms
        self._atoms = {atom: tally.voices for atom, tally in self._by_atom.items()}

    def _voices(self, atoms: Iterable[Atom]) -> set[Voice]:
        """Who answered in these atoms."""
        return set().union(*(self._atoms[atom] for atom in atoms))

    def _cell_voices(self, dimension: int, cells: Iterable[str]) -> set[Voice]:
        """Who answered in these cells of a dimension."""
        return self._voices(atom for cell in cells for atom in self._cell_atoms[dimension][cell])

    def _safe(self, voices: set[Voice]) -> bool:
        """Whether a group of responses (``voices``: who answered) may be shown."""
        return safe_voices(voices, k=self._k, rule=self._rule)

    def build(self) -> dict[str, Any]:
        """The cohort document; NotReleasable if below k recipients or min_allies allies.

        "k" always counts voices (recipients of delivered requests, see ``safe_voices``);
        answers to ally-held links are in the numbers but make nothing safe. Slice cells
        are shown only if nothing computable from the document isolates a group of
        responses below k recipients, or below min_allies allies:

        1. Per dimension: a cell is hidden if it holds fewer than k recipients or fewer
           than min_allies allies; if the hidden cells then hold between 1 and k-1
           recipients (or too few allies), the smallest visible cells (ties by name) are
           hidden too until they do not, or until all are hidden.
        2. Across dimensions: an exact audit looks for any group of responses whose count
           is a sum or difference of the total and the visible cells (treating every
           combination of cells that holds responses as known to the reader, such as
           "every credit was private", or a kind nested in its path). While such a group
           is below k responses or min_allies allies, one more cell is hidden: the
           smallest whose hiding stops that derivation. With one dimension, step 2
           never hides anything. Should the audit run past its budget (about a second;
           only with far more dimensions and tiny cells than Allyloop uses), only the
           dimension that shows the most stays visible, which needs no audit.
        """
        self._sum_atoms()
        if not self._safe(self._voices(self._atoms)):
            raise NotReleasable(
                f"{self.count} responses from {self.allies} allies; a cohort needs "
                f"{self._k} recipients of delivered requests from {self._rule.min_allies} allies"
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

    def shows(self, dimensions: Iterable[str]) -> bool:
        """Whether ``build`` would show every cell of these dimensions (the ones the builder
        is cut by), so a release now would give the reader their whole breakdown. False
        if the cohort could not be released at all.

        A release only needs who answered and in which cells, not what they said: a
        builder fed answer-less responses (``Opened(answers={}, ...)``) gives the same
        verdict as one fed the answers themselves.
        """
        self._sum_atoms()
        if not self._safe(self._voices(self._atoms)):
            return False
        visible = self._visible_cells()
        wanted = [self._dimensions.index(d) for d in dimensions if d in self._dimensions]
        return all(visible[d] == set(self._cells[d]) for d in wanted)

    def _visible_cells(self) -> list[set[str]]:
        """Per dimension, the cells to show (see ``build``)."""
        visible = [self._per_dimension(d) for d in range(len(self._dimensions))]
        while len(self._dimensions) > 1:
            try:
                hide = self._giveaway(visible)
            except _TooHard:
                # Too many small combinations to audit in time. One dimension on its own
                # needs no audit (its hidden cells already hold k from min_allies allies),
                # so keep the one that shows the most and hide the others.
                keep = max(range(len(visible)), key=lambda d: (self._shown(d, visible[d]), -d))
                return [cells if d == keep else set() for d, cells in enumerate(visible)]
            if hide is None:
                break
            d, cell = hide
            visible[d] = visible[d] - {cell}
        return visible

    def _giveaway(self, visible: list[set[str]]) -> tuple[int, str] | None:
        """A visible cell to hide because the visible cells give a small group away; None
        if they give nothing away."""
        # Atoms the visible cells cannot tell apart always count together: pool them.
        pooled: dict[tuple[tuple[int, str], ...], set[Voice]] = {}
        for atom, allies in self._atoms.items():
            pattern = tuple((1, cell) if cell in visible[d] else (0, "") for d, cell in enumerate(atom))
            pooled[pattern] = pooled.get(pattern, set()) | allies
        patterns = sorted(pooled)
        shown = [(d, cell) for d, cells in enumerate(visible) for cell in sorted(cells)]

        def rows(without: tuple[int, str] | None = None) -> list[list[int]]:
            cells = [[int(p[d] == (1, cell)) for p in patterns] for d, cell in shown if (d, cell) != without]
            return [[1] * len(patterns), *cells]

        candidates = sorted(shown, key=lambda dc: (self._cells[dc[0]][dc[1]].responses, dc))
        group = _hidden_group(_Span(rows()), [pooled[p] for p in patterns], self._safe)
        if group is None or not candidates:
            return None
        leak = [int(i in group) for i in range(len(patterns))]
        # The smallest cell whose hiding stops this derivation, else the smallest.
        return next((c for c in candidates if not _Span(rows(without=c)).contains(leak)), candidates[0])

    def _shown(self, dimension: int, cells: Iterable[str]) -> int:
        return sum(self._cells[dimension][cell].responses for cell in cells)

    def _per_dimension(self, dimension: int) -> set[str]:
        """Cells with k recipients from min_allies allies, less the smallest ones (ties by
        name) that must join the hidden cells until those hold k from min_allies allies."""
        cells = self._cells[dimension]
        visible = {c for c in cells if self._safe(self._cell_voices(dimension, [c]))}
        if len(visible) == len(cells):
            return visible
        who = self._cell_voices(dimension, [c for c in cells if c not in visible])
        for cell in sorted(visible, key=lambda c: (cells[c].responses, c)):
            if self._safe(who):
                break
            visible.remove(cell)
            who |= self._cell_voices(dimension, [cell])
        return visible
