"""Read latency of the pooled views at scale (DESIGN §7: views are read, not recomputed).

``GET /api/v1/groups/{id}/insights`` with N released answers in one group, and
``GET /api/v1/me/feedback`` for one ally with N released answers of their own, each on a
fresh SQLite database per N, served in-process by the app's test client (no network).

    python -m bench.reads --answers 10000 100000 1000000 --workdir DIR

How the data is made. A few cohorts go through the real path: pending answers, each a
real envelope sealed to the response key, released by ``feedback.release.run.release_scope``
(which writes the cohort, its comments and its scope's view). The rest copy those real
cohort documents in bulk, as cohorts of 10 answers dated over the last 24 months, each
answer released in both its views, with comments re-sealed at rest for their new cohort,
and each scope's view extended by ``feedback.release.combine.Combined`` (the code a release runs).
The group's allies log one action per 5 answers, each with its request (6 links) and its
two follow-ups (asked for about half): what the follow-up rate and the response load read.

Rounds interleave the sizes and the endpoints; each round sends ``--requests`` requests to
each endpoint at each size. Reported: the median over rounds of each round's p50 and p95,
with the smallest and largest round. Then, at each size, the parts of one insights read
timed alone, what the read would cost with ``comments=50``, and reading as before views
were kept (every cohort document summed, every comment decrypted); and a profile of one
insights request at the largest size.
"""

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from api import create_app
from api.config import Settings
from api.extensions import db
from bench import envelopes, spread
from crypto import atrest, envelope, keyring, tokens
from feedback import followups, questionnaires
from feedback.models import (
    Account,
    Action,
    Cohort,
    Envelope,
    FeedbackRequest,
    Followup,
    Membership,
    ReleasedComment,
    Response,
    Scope,
    ScopeView,
)
from feedback.release import closing, run
from feedback.release.combine import Combined, combine
from feedback.services import accounts, groups, keys, load, results
from feedback.services.scopes import scope_for

COHORT = 10  # answers per bulk cohort
ALLIES = 50  # in the group read by its lead
TEMPLATES = 8  # cohorts released through the real path, per view the bulk copies
MONTHS = 24  # the bulk cohorts are released over this many months back
ANSWERS_PER_ACTION = 5
LINKS_PER_REQUEST = 6
K = 5
KINDS = ("credit", "amplify", "sponsor", "change_process", "mentor", "connect")
QUESTIONNAIRE_ID = "immediate.v1"
BATCH = 5000


@dataclass
class Dataset:
    n: int
    app: Any
    kek: str
    group_id: int
    lead_id: int
    star_id: int
    lead_token: str
    star_token: str
    setup_seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _settings(path: Path, kek: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{path}",
        redis_url=None,
        secret_key="bench-reads-secret-key-0123456789abcdef",
        public_base_url="http://127.0.0.1:5000",
        release_min_responses=K,
        port=5000,
        key_encryption_key=keyring.parse_kek(kek),
        password_cost=2**4,
        ratelimit_enabled=False,
    )


class Builder:
    """Builds one dataset in an app context (see the module's text)."""

    def __init__(self, app: Any, kek: str, rng: random.Random) -> None:
        self.app, self.rng = app, rng
        self.session = db.session()  # the Session itself, as the app hands it to jobs
        self.today = date.today()
        self.now = datetime.now()
        self.kek = keyring.parse_kek(kek)
        self.key = keys.rotate(self.session, self.kek, now=self.now)
        self.questionnaire = questionnaires.load(QUESTIONNAIRE_ID)
        self.comment_key: bytes = app.config["COMMENT_KEY"]
        self.persons = 0

    def account(self, name: str) -> Account:
        account = Account(
            email=f"{name}@bench.example.org", name=name, password_hash=None, created_on=self.today, verified=True
        )
        self.session.add(account)
        self.session.flush()
        return account

    # --- the real path: pending answers with real envelopes, released by the release job

    def pending(self, rows: list[tuple[Account, Scope, Scope]]) -> None:
        """One pending answer per row (ally, their scope, the group's scope), each from its
        own recipient of a delivered request, sealed as a browser seals it."""
        responses, sealed_rows = [], []
        for ally, ally_scope, group_scope in rows:
            answers, comment = envelopes.random_answer(self.rng, self.questionnaire)
            info = envelope.build_info(self.key.kid, QUESTIONNAIRE_ID, tokens.link_binding(tokens.new_link_token()))
            message = envelopes.plaintext(answers, comment, self.questionnaire.pad_to)
            sealed = envelopes.seal(self.key.public_key, info, message)
            kind = self.rng.choice(KINDS)
            self.persons += 1
            responses.append(
                {
                    "ally_scope_id": ally_scope.id,
                    "group_scope_id": group_scope.id,
                    "ally_id": ally.id,
                    "kind": kind,
                    "visibility": self.rng.choice(("public", "private")),
                    "stage": "immediate",
                    "person": self.persons.to_bytes(32, "big"),
                    "invalid": False,
                }
            )
            sealed_rows.append(
                {"kid": self.key.kid, "info": info, "sealed": sealed, "digest": envelopes.digest(sealed)}
            )
        ids = self.session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True), responses
        ).all()
        for response_id, row in zip(ids, sealed_rows, strict=True):
            row["response_id"] = response_id
        self.session.execute(insert(Envelope), sealed_rows)
        self.session.commit()

    def release(self, scope: Scope) -> None:
        settings = run.ReleaseSettings(k=K, comment_key=self.comment_key)
        loader = keys.private_keys(self.session, self.kek)
        cohort = run.release_scope(self.session, scope.id, keys=loader, settings=settings, today=self.today)
        assert cohort is not None, f"scope {scope.id} did not release"
        self.session.commit()

    # --- the bulk copies

    def templates(self, scope: Scope) -> list[tuple[dict[str, Any], list[tuple[int, str]]]]:
        """The scope's real cohorts: each document with its comments, (about, text)."""
        out = []
        for cohort in self.session.scalars(select(Cohort).where(Cohort.scope_id == scope.id).order_by(Cohort.id)):
            blobs = self.session.scalars(
                select(ReleasedComment.ciphertext).where(ReleasedComment.cohort_id == cohort.id)
            )
            comments = []
            for blob in blobs:
                comment = json.loads(atrest.decrypt(self.comment_key, blob, atrest.comment_context(cohort.id)))
                comments.append((int(comment["about"]), str(comment["text"])))
            out.append((dict(cohort.document), comments))
        return out

    def bulk_cohorts(
        self, scope: Scope, count: int, templates: list[tuple[dict[str, Any], list[tuple[int, str]]]], about: list[int]
    ) -> list[int]:
        """``count`` cohorts in ``scope`` copying the template documents (10 answers each),
        their comments re-sealed for their own cohort, and the scope's view extended by
        each (``Combined``, as a release does). Returns the new cohorts' ids, oldest first."""
        if not count:
            return []
        row = self.session.get(ScopeView, scope.id)
        if row is None:  # no real release in this scope
            row = ScopeView(scope_id=scope.id, cohorts=0, responses=0, comments=0, view={}, uncut=[], months={})
            self.session.add(row)
            self.session.flush()
            combined = Combined()
        else:
            combined = Combined.resume(row.view, row.uncut)
        months = {month: dict(v) for month, v in row.months.items()}
        ids: list[int] = []
        comments = 0
        first = self.today - timedelta(days=30 * MONTHS)
        for start in range(0, count, BATCH):
            chosen = [templates[(start + i) % len(templates)] for i in range(min(BATCH, count - start))]
            cohort_rows = []
            for i, (document, _) in enumerate(chosen):
                released_on = first + timedelta(days=(30 * MONTHS) * (start + i) // max(count, 1))
                cohort_rows.append(
                    {"scope_id": scope.id, "released_on": released_on, "responses": COHORT, "document": document}
                )
                combined.add(document)
                month = months.setdefault(released_on.strftime("%Y-%m"), {"responses": 0, "declined": 0})
                month["responses"] += COHORT
                month["declined"] += int(document["declined"])
            new = self.session.scalars(
                insert(Cohort).returning(Cohort.id, sort_by_parameter_order=True), cohort_rows
            ).all()
            comment_rows = [
                {
                    "cohort_id": cohort_id,
                    "position": self.rng.randrange(2**31),
                    "ciphertext": atrest.encrypt(
                        self.comment_key,
                        json.dumps({"about": self.rng.choice(about), "text": text}).encode(),
                        atrest.comment_context(cohort_id),
                    ),
                }
                for cohort_id, (_, texts) in zip(new, chosen, strict=True)
                for _, text in texts
            ]
            if comment_rows:
                self.session.execute(insert(ReleasedComment), comment_rows)
            comments += len(comment_rows)
            ids += new
        self.session.execute(
            update(ScopeView)
            .where(ScopeView.scope_id == scope.id)
            .values(
                cohorts=row.cohorts + count,
                responses=row.responses + COHORT * count,
                comments=row.comments + comments,
                view=combined.view(),
                uncut=sorted(combined.uncut),
                months=dict(sorted(months.items())),
            )
        )
        self.session.commit()
        return ids

    def released_answers(self, rows: Iterator[dict[str, Any]]) -> None:
        """Response rows of answers released in both their views (their envelopes gone)."""
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.session.execute(insert(Response), batch)
                batch = []
        if batch:
            self.session.execute(insert(Response), batch)
        self.session.commit()

    def actions(self, group_id: int, allies: list[Account], group_scope: Scope, count: int) -> None:
        """``count`` actions in the group, each with its request and two follow-ups."""
        first = self.today - timedelta(days=30 * MONTHS)
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            days = [first + timedelta(days=(30 * MONTHS) * (start + i) // max(count, 1)) for i in range(size)]
            owners = [allies[(start + i) % len(allies)] for i in range(size)]
            action_rows = [
                {
                    "group_id": group_id,
                    "ally_id": ally.id,
                    "kind": self.rng.choice(KINDS),
                    "summary": "bench",
                    "occurred_on": day,
                    "visibility": self.rng.choice(("public", "private")),
                    "created_on": day,
                }
                for ally, day in zip(owners, days, strict=True)
            ]
            ids = self.session.scalars(
                insert(Action).returning(Action.id, sort_by_parameter_order=True), action_rows
            ).all()
            scopes = {ally.id: scope_for(self.session, "ally", ally.id, QUESTIONNAIRE_ID).id for ally in set(owners)}
            self.session.execute(
                insert(FeedbackRequest),
                [
                    {
                        "action_id": action_id,
                        "stage": "immediate",
                        "questionnaire_id": QUESTIONNAIRE_ID,
                        "ally_scope_id": scopes[ally.id],
                        "group_scope_id": group_scope.id,
                        "link_count": LINKS_PER_REQUEST,
                        "created_on": day,
                        "delivered": True,
                        "sent": LINKS_PER_REQUEST,
                    }
                    for action_id, ally, day in zip(ids, owners, days, strict=True)
                ],
            )
            followup_rows = []
            for action_id, day in zip(ids, days, strict=True):
                for stage, after in (("followup_30", 30), ("followup_90", 90)):
                    due = day + timedelta(days=after)
                    asked = due + timedelta(days=self.rng.randint(0, 40)) if self.rng.random() < 0.5 else None
                    followup_rows.append({"action_id": action_id, "stage": stage, "due_on": due, "asked_on": asked})
            self.session.execute(insert(Followup), followup_rows)
            self.session.commit()


def build(workdir: Path, n: int, seed: int = 11) -> Dataset:
    """A fresh database with ``n`` released answers in one group, and ``n`` for one ally."""
    if n % COHORT or n < 2 * TEMPLATES * COHORT:
        raise ValueError(f"answers must be a multiple of {COHORT}, at least {2 * TEMPLATES * COHORT}")
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"reads-{n}.sqlite3"
    path.unlink(missing_ok=True)
    kek = keyring.new_kek()
    app = create_app(_settings(path, kek), instance_path=str(workdir / "instance"))
    with app.app_context():
        db.create_all()
        b = Builder(app, kek, random.Random(seed))
        session = b.session
        lead = b.account("lead")
        allies = [b.account(f"ally{i}") for i in range(ALLIES)]
        star = b.account("star")  # the ally read by GET /me/feedback, in a group of their own
        group = groups.create_group(session, lead, name="Bench ERG", today=b.today)
        other = groups.create_group(session, lead, name="Star's ERG", today=b.today)
        session.add_all([Membership(group_id=group.id, account_id=a.id, role="ally") for a in allies])
        session.add(Membership(group_id=other.id, account_id=star.id, role="ally"))
        group_scope = scope_for(session, "group", group.id, QUESTIONNAIRE_ID)
        other_scope = scope_for(session, "group", other.id, QUESTIONNAIRE_ID)
        ally_scopes = {a.id: scope_for(session, "ally", a.id, QUESTIONNAIRE_ID) for a in [*allies, star]}
        session.commit()

        # Real releases: the group's (10 answers from 5 allies each), then those allies' own,
        # and the star's own (their group's view waits: one ally alone never fills it, P5).
        writers = allies[:5]
        for _ in range(TEMPLATES):
            b.pending([(a, ally_scopes[a.id], group_scope) for a in writers for _ in range(2)])
            b.release(group_scope)
        for a in writers:
            b.release(ally_scopes[a.id])
        for _ in range(TEMPLATES):
            b.pending([(star, ally_scopes[star.id], other_scope)] * COHORT)
            b.release(ally_scopes[star.id])

        group_templates = b.templates(group_scope)
        ally_templates = b.templates(ally_scopes[writers[0].id]) + b.templates(ally_scopes[star.id])
        bulk = n // COHORT - TEMPLATES

        # The group: bulk cohorts, each answer also in its ally's own view.
        group_cohorts = b.bulk_cohorts(group_scope, bulk, group_templates, [a.id for a in allies])
        per_ally = bulk // ALLIES
        ally_cohorts: dict[int, list[int]] = {}
        for a in allies:
            ally_cohorts[a.id] = b.bulk_cohorts(ally_scopes[a.id], per_ally, ally_templates, [a.id])
        answers = (
            {
                "ally_scope_id": ally_scopes[owner.id].id,
                "group_scope_id": group_scope.id,
                "ally_id": owner.id,
                "kind": KINDS[index % len(KINDS)],
                "visibility": "public",
                "stage": "immediate",
                "person": None,
                "invalid": False,
                "ally_cohort_id": ally_cohorts[owner.id][(index // ALLIES // COHORT) % max(per_ally, 1)]
                if per_ally
                else None,
                "group_cohort_id": group_cohorts[index // COHORT],
            }
            for index in range(bulk * COHORT)
            for owner in [allies[index % ALLIES]]
        )
        b.released_answers(answers)
        b.actions(group.id, allies, group_scope, n // ANSWERS_PER_ACTION)
        closing.close(session, group.id, today=b.today, k=K)  # as the tick did when this month began

        # The star: bulk cohorts in their own view, and in their group's (which no one reads here).
        star_cohorts = b.bulk_cohorts(ally_scopes[star.id], bulk, ally_templates, [star.id])
        their_group = b.bulk_cohorts(other_scope, bulk, group_templates, [star.id])
        b.released_answers(
            {
                "ally_scope_id": ally_scopes[star.id].id,
                "group_scope_id": other_scope.id,
                "ally_id": star.id,
                "kind": KINDS[index % len(KINDS)],
                "visibility": "private",
                "stage": "immediate",
                "person": None,
                "invalid": False,
                "ally_cohort_id": star_cohorts[index // COHORT],
                "group_cohort_id": their_group[index // COHORT],
            }
            for index in range(bulk * COHORT)
        )
        lead_token = accounts.issue_token(session, lead, now=b.now)
        star_token = accounts.issue_token(session, star, now=b.now)
        session.commit()
        counts = {
            "group_answers": _released(session, group_scope.id),
            "star_answers": _released(session, ally_scopes[star.id].id),
            "cohorts": session.scalar(select(func.count()).select_from(Cohort)) or 0,
            "comments": session.scalar(select(func.count()).select_from(ReleasedComment)) or 0,
            "responses": session.scalar(select(func.count()).select_from(Response)) or 0,
            "actions": session.scalar(select(func.count()).select_from(Action)) or 0,
            "database_mb": 0,
        }
        ids = (group.id, lead.id, star.id)
        db.session.remove()
    counts["database_mb"] = round(path.stat().st_size / 2**20)
    # No background ticks while measuring: they would compete for the cores, and on SQLite
    # every transaction (a read too) takes the write lock, so a long read makes them wait.
    app.extensions["allyloop.jobs"].stop()
    return Dataset(n, app, kek, *ids, lead_token, star_token, time.monotonic() - started, counts)


def _released(session: Any, scope_id: int) -> int:
    return int(session.scalar(select(ScopeView.responses).where(ScopeView.scope_id == scope_id)) or 0)


# --- measuring ---------------------------------------------------------------------------


ENDPOINTS = ("insights", "page", "feedback")


def _get(data: Dataset, what: str) -> Callable[[], float]:
    """One request to an endpoint: the insights API or HTML page (the lead), or the ally's
    own feedback API (the star)."""
    client = data.app.test_client()
    url, token = {
        "insights": (f"/api/v1/groups/{data.group_id}/insights", data.lead_token),
        "page": (f"/groups/{data.group_id}", ""),
        "feedback": ("/api/v1/me/feedback", data.star_token),
    }[what]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if what == "page":  # the lead's web session, as signing in on the web sets it
        with client.session_transaction() as cookie:
            cookie["account_id"], cookie["generation"] = data.lead_id, 0

    def one() -> float:
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed

    return one


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))]


def measure(datasets: list[Dataset], *, rounds: int, requests: int) -> dict[tuple[int, str], list[tuple[float, float]]]:
    """Per (answers, endpoint): each round's (p50, p95) in ms. Sizes and endpoints take turns."""
    calls = {(d.n, what): _get(d, what) for d in datasets for what in ENDPOINTS}
    for call in calls.values():  # warm up: first queries, imports, caches
        call()
    out: dict[tuple[int, str], list[tuple[float, float]]] = {key: [] for key in calls}
    order = list(calls)
    for index in range(rounds):
        for key in order[index % len(order) :] + order[: index % len(order)]:
            # Each batch starts from a collected heap: the garbage of a large read at another
            # size (all sizes share this process) is not collected during this one.
            gc.collect()
            times = [calls[key]() * 1000 for _ in range(requests)]
            out[key].append((percentile(times, 0.5), percentile(times, 0.95)))
    return out


def release_costs(datasets: list[Dataset], rounds: int) -> dict[int, list[float]]:
    """Per size: the time (ms) of each round's release of 5 new answers into the star's own
    view, which holds that many released already (a real release: sealed envelopes opened,
    a cohort written, its view extended, committed). Sizes take turns, round after round."""
    out: dict[int, list[float]] = {d.n: [] for d in datasets}
    for index in range(rounds):
        for data in datasets[index % len(datasets) :] + datasets[: index % len(datasets)]:
            with data.app.app_context():
                b = Builder(data.app, data.kek, random.Random(index))
                star = b.session.get(Account, data.star_id)
                assert star is not None
                mine = scope_for(b.session, "ally", star.id, QUESTIONNAIRE_ID)
                theirs = b.session.scalars(
                    select(Scope).where(Scope.kind == "group", Scope.subject_id != data.group_id)
                ).one()
                b.pending([(star, mine, theirs)] * 5)
                gc.collect()
                started = time.perf_counter()
                b.release(mine)
                out[data.n].append((time.perf_counter() - started) * 1000)
                db.session.remove()
    return out


def peak_memory(data: Dataset) -> dict[str, float]:
    """Peak Python memory (MB, tracemalloc) of one insights request, one HTML page, one
    ``me/feedback`` request, and one 5-answer release: what each allocates on top of the app."""
    out: dict[str, float] = {}
    for what in ENDPOINTS:
        call = _get(data, what)
        call()
        gc.collect()
        tracemalloc.start()
        call()
        out[what] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    with data.app.app_context():
        b = Builder(data.app, data.kek, random.Random(1))
        star = b.session.get(Account, data.star_id)
        assert star is not None
        mine = scope_for(b.session, "ally", star.id, QUESTIONNAIRE_ID)
        theirs = b.session.scalars(select(Scope).where(Scope.kind == "group", Scope.subject_id != data.group_id)).one()
        b.pending([(star, mine, theirs)] * 5)
        gc.collect()
        tracemalloc.start()
        b.release(mine)
        out["release"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        db.session.remove()
    return out


def _timed(call: Callable[[], Any], repeat: int) -> float:
    """Median ms of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def parts(data: Dataset, repeat: int) -> dict[str, float]:
    """One insights read, part by part, in-process (median ms)."""
    with data.app.app_context():
        session = db.session
        lead = session.get(Account, data.lead_id)
        star = session.get(Account, data.star_id)
        key = data.app.config["COMMENT_KEY"]
        today = date.today()
        reader = results.Reader(account_id=data.lead_id, may_read_legacy=True)
        scope_ids = session.scalars(select(Scope.id).where(Scope.kind == "group", Scope.subject_id == data.group_id))
        group_scopes = list(scope_ids)
        out = {
            "views (ScopeView rows)": _timed(
                lambda: results._released(session, "group", data.group_id, key, reader, comments=0), repeat
            ),
            "comments, all decrypted": _timed(
                lambda: results._comments(
                    session, results._views(session, results._scopes(session, "group", data.group_id)), key, reader
                ),
                repeat,
            ),
            "comments, newest 50 and the count": _timed(
                lambda: results._newest_comments(
                    session, results._views(session, results._scopes(session, "group", data.group_id)), key, reader, 50
                ),
                repeat,
            ),
            "followup_rate": _timed(lambda: followups.followup_rate(session, data.group_id, today=today, k=K), repeat),
            "response_load": _timed(lambda: load.response_load(session, data.group_id, today=today, k=K), repeat),
            "group_insights(comments=50) without today: its views, comments and checks": _timed(
                lambda: results.group_insights(session, lead, data.group_id, k=K, comment_key=key, comments=50), repeat
            ),
            "group_insights(comments=50)": _timed(
                lambda: results.group_insights(
                    session, lead, data.group_id, k=K, comment_key=key, today=today, comments=50
                ),
                repeat,
            ),
            "ally_feedback(comments=50)": _timed(
                lambda: results.ally_feedback(session, star, k=K, comment_key=key, comments=50), repeat
            ),
            "as before: every group cohort summed, every comment decrypted": _timed(
                lambda: _recomputed(session, group_scopes, key), max(1, repeat // 3)
            ),
        }
        db.session.remove()
    return out


def _recomputed(session: Any, scope_ids: list[int], key: bytes) -> None:
    """What each read did before views were kept: every cohort's document summed, every
    comment decrypted."""
    cohorts = session.execute(select(Cohort.id, Cohort.document).where(Cohort.scope_id.in_(scope_ids))).all()
    combine(document for _, document in cohorts)
    for cohort_id, blob in session.execute(
        select(ReleasedComment.cohort_id, ReleasedComment.ciphertext)
        .join(Cohort, Cohort.id == ReleasedComment.cohort_id)
        .where(Cohort.scope_id.in_(scope_ids))
    ):
        atrest.decrypt(key, blob, atrest.comment_context(cohort_id))


def profile(data: Dataset) -> str:
    """cProfile of one insights request: the functions that took the most, cumulatively."""
    call = _get(data, "insights")
    call()
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"/(feedback|api)/", 25)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="requests per endpoint, size and round")
    parser.add_argument("--repeat", type=int, default=5, help="calls per part timed alone")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the datasets are built, as gunicorn.conf.py does once a worker has loaded the app",
    )
    args = parser.parse_args()
    datasets = []
    for n in args.answers:
        print(f"building {n:,} released answers ...", flush=True)
        data = build(args.workdir, n)
        print(f"  {data.setup_seconds:.0f} s: {json.dumps(data.counts)}", flush=True)
        datasets.append(data)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    frozen = " (gc.freeze() after loading)" if args.gc_freeze else ""
    print(f"{args.rounds} rounds of {args.requests} requests per endpoint and size{frozen} ...", flush=True)
    measured = measure(datasets, rounds=args.rounds, requests=args.requests)
    print("\n| answers | endpoint | p50 ms, median (min-max) | p95 ms, median (min-max) |")
    print("|---|---|---|---|")
    for (n, what), values in measured.items():
        url = {
            "insights": f"GET /api/v1/groups/{{id}}/insights (lead, {n:,} in the group)",
            "page": f"GET /groups/{{id}}, the HTML insights page (lead, {n:,} in the group)",
            "feedback": f"GET /api/v1/me/feedback (ally, {n:,} of theirs)",
        }[what]
        first, then = spread([v[0] for v in values], digits=1), spread([v[1] for v in values], digits=1)
        print(f"| {n:,} | {url} | {first} | {then} |")
    costs = release_costs(datasets, args.rounds)
    print("\nA release of 5 answers into a view holding N, ms, median (min-max) over rounds:")
    for n, times in costs.items():
        print(f"  {n:,}: {spread(times, digits=1)}")
    print("\nPeak Python memory (tracemalloc), MB, at the largest size:")
    print("  " + json.dumps({k: round(v, 1) for k, v in peak_memory(datasets[-1]).items()}))
    print("\nParts, in-process, median ms:")
    for data in datasets:
        print(f"  {data.n:,}: " + json.dumps({k: round(v, 1) for k, v in parts(data, args.repeat).items()}))
    print(f"\nProfile of one insights request at {datasets[-1].n:,}:")
    print(profile(datasets[-1]))
    for data in datasets:
        with data.app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
