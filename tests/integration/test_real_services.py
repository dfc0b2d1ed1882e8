"""P7 on real services: the Procfile's worker on real Redis and PostgreSQL, killed and cut off.

Each test ends with exact counts: every accepted answer released exactly once, in the
number of cohorts the rules call for. Skipped locally without the server binaries
(with the reason); a failure in CI, where .ci/run installs them.
"""

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis as RedisClient
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from api.config import database_url
from api.extensions import db
from api.jobs.queue import QUEUE_NAME
from feedback.models import Cohort, Response, Scope
from tests import servers
from tests.conftest import KEK, Person, Recipient, build_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
K = 5

# Three allies' cohorts of K each, and one group cohort of all 3K: every answer released once.
THREE_ALLIES_RELEASED = {
    "answers": 3 * K,
    "ally_released": 3 * K,
    "group_released": 3 * K,
    "ally_cohorts": [K, K, K],
    "group_cohorts": [3 * K],
    "invalid": 0,
}


@pytest.fixture(scope="module")
def postgres() -> Iterator[servers.Postgres]:
    with servers.postgres() as server:
        yield server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[servers.Redis]:
    server = servers.Redis(tmp_path)
    server.start()
    yield server
    server.stop()


class Stack:
    """The web tier (in-process, public keys only) and the Procfile's worker, on one database."""

    def __init__(self, tmp_path: Path, postgres: servers.Postgres, redis: servers.Redis) -> None:
        url = postgres.new_database()
        self.app: Flask = build_app(
            tmp_path, database_url=database_url(url, str(tmp_path)), redis_url=redis.url, key_encryption_key=None
        )
        self.client: FlaskClient = self.app.test_client()
        self.redis = redis
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis.url,
            "SECRET_KEY": self.app.config["ALLYLOOP"].secret_key,
            "KEY_ENCRYPTION_KEY": KEK,
            "RELEASE_INTERVAL_SECONDS": "1",
            "RELEASE_MIN_RESPONSES": str(K),
        }
        self.worker = servers.Process("worker", env, tmp_path / "worker.log")
        self.lead = Person(self.client, "Lee")
        self.group = self.lead.create_group()

    def ally_with_links(self, count: int) -> tuple[Person, list[str]]:
        ally = Person(self.client, "Alex")
        self.lead.add(self.group, ally)
        return ally, ally.ask(ally.log_action(self.group), count=count)

    def answer(self, tokens: list[str]) -> None:
        recipient = Recipient(self.client)
        for token in tokens:
            response = recipient.answer(token, {"wanted": "yes"}, {"text": "it helped", "audience": "ally"})
            assert response.status_code == 202, response.get_json()

    def counts(self) -> dict[str, Any]:
        """What the database holds: answers, how many each kind of scope released, and its cohorts."""
        with self.app.app_context():
            session = db.session
            out: dict[str, Any] = {"answers": session.scalar(select(func.count()).select_from(Response))}
            for kind, column in (("ally", Response.ally_cohort_id), ("group", Response.group_cohort_id)):
                out[f"{kind}_released"] = session.scalar(select(func.count()).where(column.is_not(None)))
                sizes = session.scalars(
                    select(Cohort.responses).join(Scope, Scope.id == Cohort.scope_id).where(Scope.kind == kind)
                ).all()
                out[f"{kind}_cohorts"] = sorted(sizes)
            out["invalid"] = session.scalar(select(func.count()).where(Response.invalid.is_(True)))
            session.remove()
        return out

    def wait_released(self, answers: int, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait_for(lambda c: c["ally_released"] == c["group_released"] == answers, timeout)

    def wait_for(self, done: Callable[[dict[str, Any]], bool], timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            counts = self.counts()
            if done(counts) or time.monotonic() > deadline:
                return counts
            assert self.worker.alive(), self.worker.output()
            time.sleep(0.2)

    def wait_until_working(self, timeout: float = 30.0) -> None:
        """Until the worker has registered with Redis and kept its first tick."""
        client = RedisClient.from_url(self.redis.url)
        deadline = time.monotonic() + timeout
        try:
            while not (client.scard("rq:workers") and client.keys("allyloop:tick:*")):
                assert time.monotonic() < deadline and self.worker.alive(), self.worker.output()
                time.sleep(0.05)
        finally:
            client.close()

    def close(self) -> None:
        self.worker.kill()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def stack(tmp_path: Path, postgres: servers.Postgres, redis: servers.Redis) -> Iterator[Stack]:
    made = Stack(tmp_path, postgres, redis)
    yield made
    made.close()


def wait_for_a_release_in_flight(redis_url: str, timeout: float = 20.0) -> bool:
    """Poll until a per-scope release job is running (started, not finished)."""
    client = RedisClient.from_url(redis_url)
    registry = StartedJobRegistry(QUEUE_NAME, connection=client)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if any(job_id.count("-") == 3 for job_id in registry.get_job_ids()):  # allyloop-release-<scope>-<tick>
                return True
            time.sleep(0.002)
        return False
    finally:
        client.close()


def test_killing_the_worker_mid_release_loses_nothing_and_counts_nothing_twice(stack: Stack) -> None:
    allies = [stack.ally_with_links(3 * K) for _ in range(3)]
    rng = random.Random(7)
    in_flight = 0
    for round_number in range(3):
        batch = [token for _, tokens in allies for token in tokens[round_number * K : (round_number + 1) * K]]
        rng.shuffle(batch)
        stack.answer(batch)  # the worker is down while a round arrives, so each round is one cohort per scope
        stack.worker.start()
        in_flight += wait_for_a_release_in_flight(stack.redis.url)
        time.sleep(rng.uniform(0, 0.05))
        stack.worker.kill()  # kill -9, the whole process group, mid-release
        stack.worker.start()
        counts = stack.wait_released(len(batch) * (round_number + 1))
        assert counts["ally_released"] == counts["group_released"] == 3 * K * (round_number + 1), counts
        stack.worker.kill()
    counts = stack.counts()
    assert in_flight >= 1, "no kill landed while a release ran"
    assert counts == {
        "answers": 9 * K,
        "ally_released": 9 * K,
        "group_released": 9 * K,
        "ally_cohorts": [K] * 9,  # each ally, each round: exactly one cohort of exactly k
        "group_cohorts": [3 * K] * 3,  # the group, each round: one cohort of all three allies' answers
        "invalid": 0,
    }
    for ally, _ in allies:
        released = ally.get("/api/v1/me/feedback").get_json()["released"]
        assert released["responses"] == 3 * K and released["cohorts"] == 3
        assert released["comments"] == ["it helped"] * 3 * K


def test_answers_are_accepted_while_redis_is_down_and_released_when_it_returns(stack: Stack) -> None:
    # Three allies: a group cell needs k answers from 2 allies even without any one of them.
    (first, first_tokens), (second, second_tokens), (_, third_tokens) = (stack.ally_with_links(K) for _ in range(3))
    stack.worker.start()
    stack.wait_until_working()
    stack.redis.stop()
    started = time.monotonic()
    stack.answer(first_tokens + second_tokens + third_tokens)  # every one 202, committed
    assert time.monotonic() - started < 30, "answers waited on the missing Redis"
    time.sleep(2.5)  # a couple of ticks: nothing can be queued, so nothing is released
    assert stack.counts()["answers"] == 3 * K and stack.counts()["ally_released"] == 0
    assert stack.worker.alive(), stack.worker.output()

    stack.redis.start()  # empty: whatever was queued is gone; the database still knows
    counts = stack.wait_released(3 * K)
    assert counts == THREE_ALLIES_RELEASED
    assert first.get("/api/v1/me/feedback").get_json()["released"]["responses"] == K
    assert second.get("/api/v1/me/feedback").get_json()["released"]["responses"] == K


def test_the_web_tier_answers_503_while_postgresql_restarts_then_carries_on(
    stack: Stack, postgres: servers.Postgres
) -> None:
    (first, first_tokens), (second, second_tokens), (_, third_tokens) = (stack.ally_with_links(K) for _ in range(3))
    stack.worker.start()
    stack.wait_until_working()
    stack.answer(first_tokens[:3] + second_tokens[:3])  # pending: no scope has enough yet
    recipient = Recipient(stack.client)
    sealed = recipient.envelope(first_tokens[3], {"wanted": "partly"})  # sealed before the outage

    postgres.stop()
    try:
        during = [
            stack.client.get(f"/api/v1/answer/{second_tokens[3]}"),
            stack.client.post(f"/api/v1/answer/{first_tokens[3]}", json=sealed),
            first.get("/api/v1/me/feedback"),
        ]
        for response in during:
            assert response.status_code == 503, response.get_data(as_text=True)
            assert int(response.headers["Retry-After"]) > 0  # the rate limiter may state its own, longer wait
            assert response.get_json()["error"]["code"] == "unavailable"
        time.sleep(1.5)  # the worker's ticks fail meanwhile; it must stay up
    finally:
        postgres.start()

    assert stack.worker.alive(), stack.worker.output()
    retried = stack.client.post(f"/api/v1/answer/{first_tokens[3]}", json=sealed)
    assert retried.status_code == 202, "nothing was saved during the outage, so the retry is no replay"
    stack.answer([first_tokens[4]])
    counts = stack.wait_for(lambda c: c["ally_cohorts"] == [K])  # the same worker works again after the restart
    assert counts["answers"] == 2 * 3 + 2 and counts["ally_cohorts"] == [K] and counts["group_released"] == 0

    stack.worker.kill()  # so the rest arrives as one batch, and the group's cohort count is exact
    stack.answer(second_tokens[3:] + third_tokens)
    stack.worker.start()
    counts = stack.wait_released(3 * K)
    assert counts == THREE_ALLIES_RELEASED
    assert second.get("/api/v1/me/feedback").get_json()["released"]["responses"] == K
