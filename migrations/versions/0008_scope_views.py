"""Views kept at release (DESIGN §7): one scope_view row per scope that released anything,
filled here from the cohorts released so far; and an index of each view's pending answers,
so that a release tick reads those alone.

The fill sums each scope's cohort documents as ``feedback.release.combine`` does today. It
works on a copy of that logic rather than importing it: a migration must do the same thing
whenever it runs, while the app's code moves on (a later change to the view's shape comes
with a migration of its own, which refills the table from the cohorts, which never change).
``tests/integration/test_read_models.py`` checks that what this writes reads the same as
the app's own sums.

Revision ID: 0008
Revises: 0007
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The pending condition per dialect, as the app's queries render it (SQLite uses a partial
# index only for a query that holds the index's own terms).
_PENDING = {
    "ally": ("ally_scope_id", "ally_cohort_id"),
    "group": ("group_scope_id", "group_cohort_id"),
}

_cohort = sa.table(
    "cohort",
    sa.column("id", sa.Integer),
    sa.column("scope_id", sa.Integer),
    sa.column("released_on", sa.Date),
    sa.column("responses", sa.Integer),
    sa.column("document", sa.JSON),
)
_comment = sa.table("released_comment", sa.column("cohort_id", sa.Integer))
_view = sa.table(
    "scope_view",
    sa.column("scope_id", sa.Integer),
    sa.column("cohorts", sa.Integer),
    sa.column("responses", sa.Integer),
    sa.column("comments", sa.Integer),
    sa.column("view", sa.JSON),
    sa.column("uncut", sa.JSON),
    sa.column("months", sa.JSON),
    sa.column("legacy_through", sa.Integer),
)


def upgrade():
    op.create_table(
        "scope_view",
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("cohorts", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("uncut", sa.JSON(), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("legacy_through", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["scope_id"], ["scope.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scope_id"),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        for kind, (scope, cohort) in _PENDING.items():
            batch_op.create_index(
                f"ix_response_pending_{kind}",
                [scope, "person", "ally_id", cohort, "invalid"],
                unique=False,
                sqlite_where=sa.text(f"{cohort} IS NULL AND invalid IS 0"),
                postgresql_where=sa.text(f"{cohort} IS NULL AND invalid IS false"),
            )
    _fill(op.get_bind())


def downgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        for kind in reversed(_PENDING):
            batch_op.drop_index(f"ix_response_pending_{kind}")
    op.drop_table("scope_view")


def _fill(bind: sa.Connection) -> None:
    """One row per scope with cohorts: their sum, streamed a scope at a time."""
    counted = bind.execute(
        sa.select(_cohort.c.scope_id, sa.func.count())
        .select_from(_comment.join(_cohort, _cohort.c.id == _comment.c.cohort_id))
        .group_by(_cohort.c.scope_id)
    )
    comments = {scope: int(n) for scope, n in counted}
    rows = bind.execute(
        sa.select(_cohort.c.id, _cohort.c.scope_id, _cohort.c.released_on, _cohort.c.responses, _cohort.c.document)
        .order_by(_cohort.c.scope_id, _cohort.c.id)
        .execution_options(yield_per=500)
    )
    scope_id: int | None = None
    cohorts: list[tuple[int, Any, int, Mapping[str, Any]]] = []
    for cohort_id, scope, released_on, responses, document in rows:
        if scope != scope_id and cohorts:
            _write(bind, scope_id, cohorts, comments.get(scope_id, 0))
            cohorts = []
        scope_id = scope
        cohorts.append((cohort_id, released_on, responses, document))
    if cohorts:
        _write(bind, scope_id, cohorts, comments.get(scope_id, 0))


def _write(bind: sa.Connection, scope_id: int | None, cohorts: list[Any], comments: int) -> None:
    view, uncut = _combine(document for _, _, _, document in cohorts)
    months: dict[str, dict[str, int]] = {}
    for _, released_on, responses, document in cohorts:
        month = months.setdefault(released_on.strftime("%Y-%m"), {"responses": 0, "declined": 0})
        month["responses"] += int(responses)
        month["declined"] += int(document["declined"])
    bind.execute(
        sa.insert(_view).values(
            scope_id=scope_id,
            cohorts=len(cohorts),
            responses=sum(int(responses) for _, _, responses, _ in cohorts),
            comments=comments,
            view=view,
            uncut=uncut,
            months=dict(sorted(months.items())),
            # Every cohort so far was released before views were kept; some may hold
            # comments that name no ally.
            legacy_through=max(cohort_id for cohort_id, _, _, _ in cohorts),
        )
    )


# --- feedback.release.combine as of this revision, and the dimensions some document lacked --


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


def _combine(documents: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    responses = cohorts = declined = 0
    items: dict[str, tuple[int, Counter[str]]] = {}
    cells: dict[str, dict[str, tuple[int, dict[str, tuple[int, Counter[str]]], bool, bool]]] = {}
    cut_by: list[set[str]] = []
    for document in documents:
        cut_by.append(set(document["slices"]))
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
    uncut = sorted(dimension for dimension in cells if any(dimension not in dims for dims in cut_by))
    for dimension in uncut:
        seen = cells[dimension]
        for cell, (n, cell_items, ever_shown, _hidden) in seen.items():
            seen[cell] = (n, cell_items, ever_shown, True)
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
    view = {
        "responses": responses,
        "cohorts": cohorts,
        "declined": declined,
        "items": _items_out(items),
        "slices": slices,
    }
    return view, uncut
