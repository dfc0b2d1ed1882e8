"""Views kept at release read exactly what summing every released cohort gives.

Histories are made the way people make them: allies log actions and ask colleagues, who
answer (some decline, some comment for the ally, the leads, both or nobody, some send what
does not fit), and every answer that completes a cohort releases it at once (k = 5). The
oracle beside them is how the views were read before they were kept: every cohort document
of every scope summed on each read, every comment decrypted.
"""

import json
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import stamp, upgrade
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from api.documents import ReleasedOut
from api.extensions import db
from bench import reads
from crypto import atrest
from feedback import questionnaires
from feedback.figures import Month, Released, view_from_json
from feedback.models import Account, Cohort, ReleasedComment, Response, Scope, ScopeView
from feedback.release import run
from feedback.services import results
from tests.conftest import Person, Recipient, make_due, release_at_once
from tests.integration.test_web_lead import browser_for
from tests.unit.test_combine import recomputed

K = 5
KINDS = ("credit", "amplify", "sponsor", "change_process", "mentor")
STAGES = ("immediate", "immediate", "immediate", "advice", "followup_30", "followup_90")


# --- the oracle: views as they were read before they were kept ------------------------------


def recomputed_released(
    session: Session, kind: str, subject_id: int, comment_key: bytes, reader: results.Reader | None
) -> dict[str, Any]:
    """``results._released`` as it was: every cohort of every scope read and summed."""
    scopes = session.scalars(
        select(Scope).where(Scope.kind == kind, Scope.subject_id == subject_id).order_by(Scope.questionnaire_id)
    ).all()
    cohorts = session.scalars(
        select(Cohort).where(Cohort.scope_id.in_([s.id for s in scopes])).order_by(Cohort.id)
    ).all()
    views = {}
    for scope in scopes:
        mine = [c.document for c in cohorts if c.scope_id == scope.id]
        if mine:
            views[scope.questionnaire_id] = recomputed(mine)
    trend: dict[str, int] = {}
    for cohort in cohorts:
        month = cohort.released_on.strftime("%Y-%m")
        trend[month] = trend.get(month, 0) + cohort.responses
    comments, unreadable = recomputed_comments(session, [c.id for c in cohorts], comment_key, reader)
    typed = {qid: view_from_json(view) for qid, view in views.items()}
    released = Released(
        responses=sum(c.responses for c in cohorts),
        cohorts=len(cohorts),
        questionnaires=typed,
        trend=tuple(Month(month, n) for month, n in sorted(trend.items())),
        comments=tuple(comments),
        unreadable_comments=unreadable,
        comments_total=len(comments) + unreadable,
        lasting=results.does_it_last(typed),
    )
    return as_json(released)


def as_json(released: Released) -> dict[str, Any]:
    """As the API gives it: what the tests compare."""
    return dict(ReleasedOut().dump(released))


def recomputed_comments(
    session: Session, cohort_ids: list[int], comment_key: bytes, reader: results.Reader | None
) -> tuple[list[str], int]:
    """Every comment decrypted, cohort by cohort, none about the reader (P9)."""
    rows = session.execute(
        select(ReleasedComment.cohort_id, ReleasedComment.ciphertext)
        .where(ReleasedComment.cohort_id.in_(cohort_ids))
        .order_by(ReleasedComment.cohort_id, ReleasedComment.position, ReleasedComment.id)
    )
    readable, unreadable = [], 0
    for cohort_id, blob in rows:
        try:
            comment = json.loads(atrest.decrypt(comment_key, blob, atrest.comment_context(cohort_id)))
        except atrest.AtRestError:
            try:
                legacy = atrest.decrypt(comment_key, blob, atrest.legacy_comment_context(cohort_id)).decode()
            except atrest.AtRestError:
                unreadable += 1
                continue
            if reader is None or reader.may_read_legacy:
                readable.append(legacy)
            continue
        if reader is None or comment["about"] != reader.account_id:
            readable.append(comment["text"])
    return readable, unreadable


# --- histories ---------------------------------------------------------------------------


def random_answer(rng: random.Random, questionnaire: questionnaires.Questionnaire) -> dict[str, Any]:
    """A valid answer: some items skipped, now and then "I'd rather not answer"."""
    if rng.random() < 0.1:
        return {}
    answers: dict[str, Any] = {}
    for item in questionnaire.items:
        if rng.random() < 0.3:
            continue
        if item.type == "choice":
            answers[item.id] = rng.choice(item.option_values)
        elif item.type == "scale":
            low, high = int(item.min or 1), int(item.max or 5)
            answers[item.id] = "na" if item.allow_na and rng.random() < 0.1 else rng.randint(low, high)
        else:
            plain = [v for v in item.option_values if v not in item.exclusive]
            answers[item.id] = rng.sample(plain, rng.randint(1, min(3, len(plain))))
    questionnaire.validate_answers(answers)
    return answers


class History:
    """A group with a lead who never acts, three allies, and one ally who is a co-lead too."""

    def __init__(self, app: Flask, client: FlaskClient, lead: Person, seed: int) -> None:
        self.app, self.lead, self.rng = app, lead, random.Random(seed)
        self.group = lead.create_group()
        self.allies = [Person(client, name) for name in ("Ana", "Ben", "Cy")]
        for ally in self.allies:
            lead.add(self.group, ally)
        self.co_lead = Person(client, "Eve")
        lead.add(self.group, self.co_lead, role="lead")
        self.allies.append(self.co_lead)
        self.recipient = Recipient(client)
        self.comments = self.rounds = 0

    def act(self, rounds: int, monkeypatch: pytest.MonkeyPatch) -> None:
        """``rounds`` times: an ally acts and asks, and the colleagues answer."""
        for _ in range(rounds):
            # Everyone acts at least once, the co-lead included (P9 then hides comments from them).
            ally = self.allies[self.rounds] if self.rounds < len(self.allies) else self.rng.choice(self.allies)
            self.rounds += 1
            stage = self.rng.choice(STAGES)
            action = ally.log_action(self.group, self.rng.choice(KINDS), self.rng.choice(("public", "private")))
            if stage.startswith("followup"):
                ally.ask(action, count=1)  # a follow-up is owed from the first immediate request on
                make_due(self.app, action, stage)
            tokens = ally.ask(action, stage, count=self.rng.randint(1, 6))
            if self.rng.random() < 0.3:
                tokens += ally.share_links(action, stage, count=1)  # its answer rides along (P8)
            # Documents cut by fewer dimensions, as releases made before the stage slices (or
            # any slice) existed wrote them.
            cut = self.rng.choice((None, None, None, run.DIMENSIONS, ("path", "kind")))
            with monkeypatch.context() as patched:
                if cut is not None:
                    patched.setattr(run, "dimensions_for", lambda _questionnaire, cut=cut: cut)
                for token in tokens:
                    self.answer(token, questionnaires.for_stage(stage))

    def answer(self, token: str, questionnaire: questionnaires.Questionnaire) -> None:
        if self.rng.random() < 0.15:
            return  # never answered
        if self.rng.random() < 0.05:
            answers: dict[str, Any] = {"no_such_item": "yes"}  # sealed, so only the release finds it invalid
        else:
            answers = random_answer(self.rng, questionnaire)
        comment = None
        if self.rng.random() < 0.5:
            self.comments += 1
            comment = {"text": f"comment {self.comments}", "audience": self.rng.choice(questionnaires.AUDIENCES)}
        assert self.recipient.answer(token, answers, comment).status_code == 202


Read = Callable[..., dict[str, Any]]


def readers(history: History, comment_key: bytes) -> Iterator[tuple[str, Read, Callable[[], dict[str, Any]]]]:
    """Each way the history is read, (name, read with the kept views, read with the oracle):
    every ally's own results, the lead's insights and the acting co-lead's (P9)."""
    session = db.session
    for person in history.allies:
        account = session.get(Account, person.id)

        def ally_read(account: Account | None = account, **options: Any) -> dict[str, Any]:
            assert account is not None
            return as_json(results.ally_feedback(session, account, k=K, comment_key=comment_key, **options).released)

        def ally_oracle(person: Person = person) -> dict[str, Any]:
            return recomputed_released(session, "ally", person.id, comment_key, None)

        yield f"ally {person.email}", ally_read, ally_oracle
    for lead, acts in ((history.lead, False), (history.co_lead, True)):
        account = session.get(Account, lead.id)

        def lead_read(account: Account | None = account, **options: Any) -> dict[str, Any]:
            assert account is not None
            insights = results.group_insights(session, account, history.group, k=K, comment_key=comment_key, **options)
            return as_json(insights.released)

        def lead_oracle(lead: Person = lead, acts: bool = acts) -> dict[str, Any]:
            reader = results.Reader(account_id=lead.id, may_read_legacy=not acts)
            return recomputed_released(session, "group", history.group, comment_key, reader)

        yield f"lead {lead.email}", lead_read, lead_oracle


def assert_reads_as_recomputed(history: History, comment_key: bytes) -> None:
    for name, read, oracle in readers(history, comment_key):
        assert read() == oracle(), name


def released_cohorts(app: Flask) -> list[tuple[str, int]]:
    with app.app_context():
        return [
            (kind, n)
            for kind, n in db.session.execute(
                select(Scope.kind, Cohort.responses).join(Scope, Scope.id == Cohort.scope_id).order_by(Cohort.id)
            )
        ]


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_view_reads_what_summing_every_released_cohort_gives(
    app: Flask, client: FlaskClient, lead: Person, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    release_at_once(app)  # so that every seed's history releases group cohorts too
    history = History(app, client, lead, seed)
    history.act(40, monkeypatch)
    cohorts = released_cohorts(app)
    assert {kind for kind, _ in cohorts} == {"ally", "group"}, "the history released both kinds of view"
    with app.app_context():
        assert_reads_as_recomputed(history, app.config["COMMENT_KEY"])


def test_a_view_reads_the_same_after_every_release_along_the_way(
    app: Flask, client: FlaskClient, lead: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = History(app, client, lead, seed=4)
    seen = 0
    for _ in range(12):
        history.act(2, monkeypatch)
        count = len(released_cohorts(app))
        if count != seen:
            seen = count
            with app.app_context():
                assert_reads_as_recomputed(history, app.config["COMMENT_KEY"])
    assert seen >= 4


def test_comments_that_no_longer_decrypt_are_counted_as_before(
    app: Flask, client: FlaskClient, lead: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After SECRET_KEY changed, every comment is counted, none shown, for every reader."""
    history = History(app, client, lead, seed=5)
    history.act(16, monkeypatch)
    other_key = atrest.derive_key("another-secret-key-that-is-long-enough-000", "released-comments")
    with app.app_context():
        assert_reads_as_recomputed(history, other_key)
        reads = [read() for _, read, _ in readers(history, other_key)]
    assert [r["comments"] for r in reads] == [[]] * len(reads)
    assert all(r["unreadable_comments"] == r["comments_total"] for r in reads)
    assert sum(r["unreadable_comments"] for r in reads) > 0


@pytest.mark.parametrize("limit", [0, 1, 3, 1000])
def test_the_newest_comments_are_the_end_of_the_full_list_with_the_same_total(
    app: Flask, client: FlaskClient, lead: Person, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    history = History(app, client, lead, seed=6)
    history.act(20, monkeypatch)
    with app.app_context():
        for name, read, _ in readers(history, app.config["COMMENT_KEY"]):
            full, page = read(), read(comments=limit)
            assert page["comments"] == (full["comments"][-limit:] if limit else []), name
            assert page["comments_total"] == full["comments_total"], name
            if limit >= len(full["comments"]):
                assert page == full, name
            else:
                assert {**page, "comments": full["comments"]} == full, name


def test_a_co_lead_who_acts_is_counted_no_comment_about_them_in_a_page(
    app: Flask, client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    """P9 holds in the count too: the total says nothing of comments about the reader."""
    group = lead.create_group()
    allies = [Person(client, name) for name in ("Ana", "Ben")]
    co_lead = Person(client, "Eve")
    for ally in allies:
        lead.add(group, ally)
    lead.add(group, co_lead, role="lead")
    for n, person in enumerate([*allies, co_lead] * 2):
        for token in person.ask(person.log_action(group), count=3):
            comment = {"text": f"about {person.email} ({n})", "audience": "lead"}
            assert recipient.answer(token, {"wanted": "yes"}, comment).status_code == 202
    with app.app_context():
        account = db.session.get(Account, co_lead.id)
        assert account is not None
        key = app.config["COMMENT_KEY"]
        full = results.group_insights(db.session, account, group, k=K, comment_key=key).released
        page = results.group_insights(db.session, account, group, k=K, comment_key=key, comments=2).released
    assert full.comments and not [c for c in full.comments if co_lead.email in c]
    assert page.comments_total == len(full.comments) == 12, "18 released, 6 about the co-lead"
    assert page.comments == full.comments[-2:]


def test_a_view_goes_with_its_scope_when_an_ally_deletes_their_account(
    app: Flask, client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    ally = Person(client, "Ana")
    lead.add(group, ally)
    for token in ally.ask(ally.log_action(group), count=5):
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with app.app_context():
        own = select(Scope.id).where(Scope.kind == "ally", Scope.subject_id == ally.id)
        assert db.session.scalars(select(ScopeView.responses).where(ScopeView.scope_id.in_(own))).all() == [5]
    deleted = client.delete("/api/v1/me", json={"password": ally.password}, headers=ally.headers)
    assert deleted.status_code in (200, 204), deleted.get_json()
    with app.app_context():
        assert db.session.scalars(select(ScopeView.scope_id).where(ScopeView.scope_id.in_(own))).all() == []


def test_data_released_before_the_migration_reads_the_same_after_it(
    app: Flask, client: FlaskClient, lead: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0008 fills the views from the cohorts released before it, comments released
    before they named their ally included; the next release then adds to what it wrote."""
    history = History(app, client, lead, seed=7)
    history.act(20, monkeypatch)
    key = app.config["COMMENT_KEY"]
    with app.app_context():
        legacy_comments(db.session, key, every=3)  # released before P9, as such releases wrote them
        before = {name: oracle() for name, _, oracle in readers(history, key)}
        db.session.commit()
        ScopeView.__table__.drop(db.engine)  # the schema of 0007
        for index in Response.__table__.indexes:
            if index.name and index.name.startswith("ix_response_pending_"):
                index.drop(db.engine)
        stamp(revision="0007")
        try:
            upgrade(revision="0008")
            for name, read, _ in readers(history, key):
                assert read() == before[name], name
                for limit in (0, 2):  # the acting co-lead's total skips the comments that name no one
                    page = read(comments=limit)
                    assert page["comments"] == (before[name]["comments"][-limit:] if limit else []), name
                    assert page["comments_total"] == before[name]["comments_total"], name
            db.session.remove()
        finally:
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    history.act(10, monkeypatch)
    with app.app_context():
        assert_reads_as_recomputed(history, key)


def legacy_comments(session: Session, key: bytes, *, every: int) -> None:
    """Rewrite every ``every``-th released comment the way releases before P9 stored it:
    plain text, naming no one."""
    rows = session.execute(
        select(ReleasedComment.id, ReleasedComment.cohort_id, ReleasedComment.ciphertext).order_by(ReleasedComment.id)
    ).all()
    for comment_id, cohort_id, blob in rows[::every]:
        plain = json.loads(atrest.decrypt(key, blob, atrest.comment_context(cohort_id)))["text"]
        legacy = atrest.encrypt(key, plain.encode(), atrest.legacy_comment_context(cohort_id))
        session.execute(update(ReleasedComment).where(ReleasedComment.id == comment_id).values(ciphertext=legacy))


def test_the_release_ticks_queries_read_pending_answers_only(
    app: Flask, client: FlaskClient, lead: Person, recipient: Recipient
) -> None:
    """On SQLite (EXPLAIN QUERY PLAN): every query a release runs for pending answers reads
    them through the pending index, or the cohort column's index at NULL, never a scope's
    released history."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the plans checked are SQLite's")
    group = lead.create_group()
    allies = [Person(client, name) for name in ("Ana", "Ben", "Cy")]
    for ally in allies:
        lead.add(group, ally)
    for _ in range(2):  # history: released cohorts in both views
        for ally in allies:
            for token in ally.ask(ally.log_action(group), count=5):
                assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    tokens = allies[0].ask(allies[0].log_action(group), count=5)
    for token in tokens[:-1]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "cohort_id IS NULL" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert recipient.answer(tokens[-1], {"wanted": "yes"}).status_code == 202  # releases inline
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert ("ally", 5) in released_cohorts(app)[-1:], "the fifth answer released the ally's cohort"
    assert len(statements) >= 4
    with engine.connect() as connection:
        for statement, parameters in statements:
            explained = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))
            plan = [row[-1] for row in explained]
            on_response = [line for line in plan if " response " in f"{line} "]
            assert on_response, (statement, plan)
            for line in on_response:
                assert "ix_response_pending_" in line or "_cohort_id=?" in line, (statement, plan)


def test_a_view_is_one_row_per_scope(app: Flask, client: FlaskClient, lead: Person, recipient: Recipient) -> None:
    """Reading a view reads its scopes' rows, never their cohorts."""
    group = lead.create_group()
    ally = Person(client, "Ana")
    lead.add(group, ally)
    for _ in range(3):
        for token in ally.ask(ally.log_action(group), count=5):
            assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with app.app_context():
        statements: list[str] = []

        def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            account = db.session.get(Account, ally.id)
            assert account is not None
            released = results.ally_feedback(db.session, account, k=K, comment_key=b"\0" * 32, comments=0)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
    assert released.released.cohorts == 3
    assert not [s for s in statements if "cohort.document" in s], statements


def test_the_reads_benchmark_builds_views_that_read_as_summing_its_cohorts(tmp_path: Path) -> None:
    """bench/reads.py measures kept views only if what it writes in bulk is what releases
    would have kept."""
    data = reads.build(tmp_path, 200)
    with data.app.app_context():
        try:
            key = data.app.config["COMMENT_KEY"]
            lead, star = db.session.get(Account, data.lead_id), db.session.get(Account, data.star_id)
            assert lead is not None and star is not None
            insights = results.group_insights(db.session, lead, data.group_id, k=K, comment_key=key)
            reader = results.Reader(account_id=lead.id, may_read_legacy=True)
            assert as_json(insights.released) == recomputed_released(db.session, "group", data.group_id, key, reader)
            assert insights.released.responses == 200
            mine = as_json(results.ally_feedback(db.session, star, k=K, comment_key=key).released)
            assert mine == recomputed_released(db.session, "ally", star.id, key, None)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- a page of comments -----------------------------------------------------------------------


def released_with_comments(app: Flask, kind: str, subject_id: int, texts: list[str]) -> None:
    """One cohort of that subject released with these comments, oldest first, as a release
    writes them (sealed at rest, about an ally who is not the reader)."""
    with app.app_context():
        session = db.session
        scope = Scope(kind=kind, subject_id=subject_id, questionnaire_id="immediate.v1", invalid=0)
        session.add(scope)
        session.flush()
        view = {"responses": 5, "cohorts": 1, "declined": 0, "items": {}, "slices": {}}
        document = {key: view[key] for key in ("responses", "declined", "items", "slices")}
        cohort = Cohort(scope_id=scope.id, released_on=date.today(), responses=5, document=document)
        session.add(cohort)
        session.flush()
        key = app.config["COMMENT_KEY"]
        for position, text in enumerate(texts):
            about = json.dumps({"about": 0, "text": text}).encode()
            session.add(
                ReleasedComment(
                    cohort_id=cohort.id,
                    position=position,
                    ciphertext=atrest.encrypt(key, about, atrest.comment_context(cohort.id)),
                )
            )
        months = {date.today().strftime("%Y-%m"): {"responses": 5, "declined": 0}}
        counts = {"cohorts": 1, "responses": 5, "comments": len(texts)}
        session.add(ScopeView(scope_id=scope.id, view=view, uncut=[], months=months, **counts))
        session.commit()


def test_readers_get_the_newest_page_of_comments_and_the_count_of_all(
    app: Flask, client: FlaskClient, lead: Person, ally: Person
) -> None:
    """A long history's comments are not all decrypted and sent on each read: the API and the
    pages show the newest 50 and say how many there are."""
    group = lead.create_group()
    texts = [f"comment {n}" for n in range(61)]
    released_with_comments(app, "group", group, texts)
    released_with_comments(app, "ally", ally.id, texts)
    for body in (
        lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"],
        ally.get("/api/v1/me/feedback").get_json()["released"],
    ):
        assert body["comments"] == texts[-50:] and body["comments_total"] == 61
    lead_page = browser_for(app, lead).get(f"/groups/{group}").get_data(as_text=True)
    ally_page = browser_for(app, ally).get("/ally/results").get_data(as_text=True)
    assert "61 comments in all: the newest 50" in lead_page
    assert "The newest 50 of 61 comments." in ally_page
    for page in (lead_page, ally_page):
        assert "comment 60" in page and "comment 10<" not in page and "comment 11<" in page
