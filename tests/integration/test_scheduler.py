"""The schedule the worker keeps, on a real redis-server: one enqueue per tick however many
workers tick, no job queued twice, and jobs orphaned by a killed worker cleared away."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.executions import Execution
from rq.registry import FailedJobRegistry, StartedJobRegistry

from api.config import Settings
from api.jobs.purge import purge_job
from api.jobs.queue import QUEUE_NAME, enqueue_once
from api.jobs.schedule import next_tick_in, tick
from tests import servers
from tests.conftest import make_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = servers.Redis(tmp_path)
    server.start()
    client = Redis.from_url(server.url)
    yield client
    client.close()
    server.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, release_interval_seconds=60)


def queued(redis: Redis) -> list[str]:
    return Queue(QUEUE_NAME, connection=redis).get_job_ids()


def test_each_tick_is_enqueued_once_however_many_workers_keep_the_schedule(redis: Redis, settings: Settings) -> None:
    now = 1_800_000_000.0  # a multiple of 3600: every kind's tick starts here
    assert sorted(tick(redis, settings, now)) == ["deliver", "purge", "release", "reminders", "run-due"]
    assert tick(redis, settings, now + 1) == [], "a second worker in the same tick queues nothing"
    assert tick(redis, settings, now + 30) == ["deliver"], "emails with links are retried every 30 seconds"
    assert sorted(tick(redis, settings, now + 60)) == ["deliver", "release"], "the next release: a minute on"
    assert len(queued(redis)) == 8
    assert len(set(queued(redis))) == 8


def test_releases_wait_for_the_next_tick_on_the_wall_clock(settings: Settings) -> None:
    assert next_tick_in(settings, 1_800_000_000.0 + 45) == pytest.approx(15)


def test_a_job_already_waiting_is_not_queued_again(redis: Redis) -> None:
    queue = Queue(QUEUE_NAME, connection=redis)
    assert enqueue_once(queue, purge_job, job_id="allyloop-purge-1")
    assert not enqueue_once(queue, purge_job, job_id="allyloop-purge-1")
    assert queued(redis) == ["allyloop-purge-1"]


def test_jobs_orphaned_by_a_killed_worker_are_cleared_so_their_work_is_queued_again(
    redis: Redis, settings: Settings
) -> None:
    queue = Queue(QUEUE_NAME, connection=redis)
    job = queue.enqueue(purge_job, job_id="allyloop-purge-7")
    queue.remove(job)  # a worker took it ...
    started = StartedJobRegistry(queue=queue)
    with redis.pipeline() as pipe:
        job.set_status("started", pipeline=pipe)
        Execution.create(job, ttl=1, pipeline=pipe)  # ... and died: no heartbeat will ever extend this
        pipe.execute()
    assert not enqueue_once(queue, purge_job, job_id="allyloop-purge-7"), "still looks alive"
    time.sleep(2.1)
    tick(redis, settings, 1_800_000_000.0)
    assert job.id not in started.get_job_ids()
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids(), "kept for the operator to see"
    assert enqueue_once(queue, purge_job, job_id="allyloop-purge-7"), "the same work can be queued again"
