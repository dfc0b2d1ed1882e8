"""gunicorn settings: no access log, and error-log lines scrubbed of tokens and addresses (P1)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread, 4 threads a worker: the answers a worker gets together share one synced commit
# (api/commit.py), where a sync worker commits them one by one. Side by side in 5 interleaved
# rounds: 632 (481-864) answers/s against 223 (165-233) on sync workers, 2.8 times (2.7-4.4);
# on PostgreSQL 8 or 16 threads did no better (docs/benchmarks.md, issue 15).
threads = 4
accesslog = None
errorlog = "-"
loglevel = "info"
forwarded_allow_ips = ""


def post_worker_init(worker):
    import gc

    # What the app loaded stays for the worker's life: out of the collector's sight, a full
    # collection (about 100 ms with everything loaded) no longer lands on a request.
    gc.collect()
    gc.freeze()


def on_starting(server):
    from api import INSTANCE, logs
    from api.config import from_environment

    logs.install()
    from_environment(str(INSTANCE))  # a wrong setting stops the master with its message, before any worker boots
