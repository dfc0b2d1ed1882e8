"""Where background work runs: RQ workers when REDIS_URL is set, in-process otherwise.

One module per kind of work (``release``, ``deliver``, ``followups``, ``purge``), the
schedule and the RQ worker (``schedule``), the in-process threads (``inprocess``), and the
RQ plumbing written once (``queue``: the Redis client, ``enqueue_once`` and the ``rq_job``
wrapper that gives a job its own app context and session). ``adapters`` turns the app's
config into the settings the domain's functions take.

Jobs take no objects, only ids or nothing; each opens its own app context and session,
calls one plain function from the domain, and is idempotent: the database, not the queue,
says what is due, so running a job twice (or after a worker died half-way) does nothing
the first run did not.

With Redis, the worker process (``schedule.Worker``, the Procfile's ``worker`` line) also
keeps the schedule: a thread enqueues each kind of work on a fixed wall-clock tick
(``schedule.SCHEDULE``). Releases run only on those ticks, never right after the k-th
answer, so the moment a cohort appears says only "some answers came in during the last
interval", not who answered last.
"""
