"""The production shape under load, bounded, on loopback: 200 recipients answer at once (each
sends one sealed envelope), in rounds, to gunicorn as the Procfile serves it (gunicorn.conf.py's
workers and threads) on a throwaway PostgreSQL with fsync on, with Redis and the Procfile's
worker releasing the answers. From the repository root:

    .venv/bin/python bench/load_pg.py          (or: make bench-pg)

Reports, per round, submit latency p50/p95 (median and min-max over the rounds), and over
all rounds: accepted (202), any 5xx (must be 0), lost (accepted but not stored: must be 0),
released (each accepted answer in exactly one cohort of its ally's scope, after the
scheduler's ticks). Writes its section of docs/benchmarks.md unless ``--no-doc``. Exits
non-zero when anything was lost, a 5xx was seen, or answers stayed unreleased past
``--release-timeout``.
"""

import argparse
import itertools
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, spread, web  # noqa: E402 - after the path fix above, for `python bench/load_pg.py`
from tests import servers  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- load_pg: written by bench/load_pg.py -->", "<!-- /load_pg -->"


def counts(env: dict[str, str], workdir: Path) -> dict[str, int]:
    """Answers stored, answers released in an ally's cohort, and how many cohorts hold them."""
    from sqlalchemy import func, select

    from api import create_app
    from api.extensions import db
    from feedback.models import Cohort, Response, Scope

    with web._env(env):
        app = create_app(instance_path=str(workdir / "instance"))
    with app.app_context():
        session = db.session
        out = {
            "stored": session.scalar(select(func.count()).select_from(Response)) or 0,
            "released": session.scalar(select(func.count()).where(Response.ally_cohort_id.is_not(None))) or 0,
            "in_cohorts": session.scalar(
                select(func.coalesce(func.sum(Cohort.responses), 0))
                .join(Scope, Scope.id == Cohort.scope_id)
                .where(Scope.kind == "ally")
            )
            or 0,
            "invalid": session.scalar(select(func.count()).where(Response.invalid.is_(True))) or 0,
        }
        session.remove()
        db.engine.dispose()
    return out


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with servers.postgres(durable=True) as postgres:
        redis = servers.Redis(workdir)
        redis.start()
        worker: servers.Process | None = None
        try:
            env = web.environment(workdir, postgres.new_database())
            env.update(REDIS_URL=redis.url, RELEASE_INTERVAL_SECONDS=str(args.release_interval))
            started = time.monotonic()
            per_round = args.at_once + 1  # one warm-up answer, then the burst
            work = web.prepare(workdir, env, args.rounds * len(args.threads) * per_round, args.allies, args.seed)
            setup = time.monotonic() - started
            web_env = {k: v for k, v in env.items() if k != "KEY_ENCRYPTION_KEY"}  # the web tier holds no private key
            worker = servers.Process("worker", env, workdir / "worker.log")
            worker.start()
            started = time.monotonic()
            rounds: dict[str, list[load.LoadResult]] = {str(t or "conf"): [] for t in args.threads}
            for index in range(args.rounds):
                turn = index % len(args.threads)
                for offset, threads in enumerate(args.threads[turn:] + args.threads[:turn]):
                    at = (index * len(args.threads) + offset) * per_round
                    chunk = work[at : at + per_round]
                    log = workdir / f"web-{threads}-{index}.log"
                    with web.Gunicorn("api:create_app()", web_env, None, log, threads or None) as server:
                        warm = load.run("127.0.0.1", server.port, chunk[:1], processes=1, threads=1)
                        burst = load.run("127.0.0.1", server.port, chunk[1:], processes=4, threads=args.at_once // 4)
                    burst.statuses.update(warm.statuses)
                    burst.errors.extend(warm.errors)
                    rounds[str(threads or "conf")].append(burst)
                    print(
                        f"  round {index + 1} threads {threads or 'conf'}: p50 {burst.percentile(0.5) * 1e3:.0f} ms, "
                        f"p95 {burst.percentile(0.95) * 1e3:.0f} ms {dict(burst.statuses)}",
                        flush=True,
                    )
                    time.sleep(args.pause)
            statuses: Counter[int] = Counter()
            for result in itertools.chain(*rounds.values()):
                statuses.update(result.statuses)
            accepted = statuses.get(202, 0)
            deadline = time.monotonic() + args.release_timeout
            tally = counts(env, workdir)
            while tally["released"] + tally["invalid"] < accepted and time.monotonic() < deadline:
                time.sleep(1)
                tally = counts(env, workdir)
            release_wait = time.monotonic() - started
        finally:
            if worker is not None:
                worker.kill()
            redis.stop()
    return {
        "submits": len(work),
        "at_once": 4 * (args.at_once // 4),
        "gunicorn": _gunicorn_shape(workdir / f"web-{args.threads[0]}-0.log"),
        "accepted": accepted,
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        "connection_errors": sum(len(r.errors) for r in itertools.chain(*rounds.values())),
        "lost": accepted - tally["stored"],
        "released": tally["released"],
        "in_cohorts": tally["in_cohorts"],
        "invalid": tally["invalid"],
        "p50_ms": {t: [r.percentile(0.50) * 1000 for r in got] for t, got in rounds.items()},
        "p95_ms": {t: [r.percentile(0.95) * 1000 for r in got] for t, got in rounds.items()},
        "setup_s": setup,
        "until_released_s": release_wait,
        "load_average": os.getloadavg()[1],  # over the last 5 minutes: how much else the machine ran
    }


def _gunicorn_shape(log: Path) -> str:
    """Workers and worker class as gunicorn reported them at start (from gunicorn.conf.py)."""
    text = log.read_text()
    kind = re.search(r"Using worker: (\w+)", text)
    workers = len(re.findall(r"Booting worker with pid", text))
    return f"{workers} workers, {kind.group(1) if kind else '?'}"


def _named(threads: str) -> str:
    return "gunicorn.conf.py's threads" if threads == "conf" else f"{threads} threads a worker"


def section(args: argparse.Namespace, figures: dict[str, Any], when: datetime) -> str:
    released_once = figures["released"] == figures["accepted"] == figures["in_cohorts"]
    shown = next(iter(figures["p50_ms"]))  # the first variant: gunicorn.conf.py's unless told
    fast = statistics.median(figures["p50_ms"][shown]) <= 150
    ok = figures["lost"] == 0 and figures["server_errors"] == 0 and released_once and fast
    rows = [
        ("answers sent, each once (no retries)", f"{figures['submits']:,}", "", ""),
        ("recipients answering at once, per round", f"{figures['at_once']} (after one warm-up answer)", "200", ""),
        ("accepted (202)", f"{figures['accepted']:,}", "all", _mark(figures["accepted"] == figures["submits"])),
        ("responses by status", ", ".join(f"{s}: {n}" for s, n in figures["statuses"].items()), "", ""),
        ("5xx responses", f"{figures['server_errors']}", "0", _mark(figures["server_errors"] == 0)),
        ("lost (accepted, not stored)", f"{figures['lost']}", "0", _mark(figures["lost"] == 0)),
        (
            "released, each in exactly one ally cohort",
            f"{figures['released']:,} (cohorts hold {figures['in_cohorts']:,})",
            "= accepted",
            _mark(released_once),
        ),
        *(
            row
            for threads in figures["p50_ms"]
            for row in (
                (
                    f"submit latency p50, ms, {_named(threads)}: median (min-max) of rounds",
                    spread(figures["p50_ms"][threads], digits=0),
                    "≤ 150" if threads == shown else "",
                    _mark(fast) if threads == shown else "",
                ),
                (f"submit latency p95, ms, {_named(threads)}", spread(figures["p95_ms"][threads], digits=0), "", ""),
            )
        ),
        (
            "from the first round until every answer was released, s",
            f"{figures['until_released_s']:.1f}",
            f"release tick {args.release_interval} s",
            "",
        ),
    ]
    lines = [
        BEGIN,
        "## Load on the production shape (PostgreSQL, Redis, RQ worker)",
        "",
        "```",
        f"make bench-pg    # .venv/bin/python bench/load_pg.py --rounds {args.rounds} --at-once {args.at_once} "
        f"--release-interval {args.release_interval} --threads {' '.join(map(str, args.threads))}",
        "```",
        "",
        f"- **Run:** {when:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"gunicorn as the Procfile's `web` line runs it ({figures['gunicorn']}, from gunicorn.conf.py; bound to "
        "loopback), one RQ worker (the Procfile's `worker` line), a throwaway PostgreSQL with fsync on and "
        "redis-server, and the clients, all on this machine; load average over the last 5 minutes at the end: "
        f"{figures['load_average']:.1f}.",
        f"- **Setup** (accounts, {args.allies} allies, links, sealing every envelope in advance): "
        f"{figures['setup_s']:.0f} s, not timed below. Each round: one answer, then {figures['at_once']} "
        f"recipients send theirs at the same moment, on a web server started for the round; "
        f"{args.rounds} rounds, the variants' order turning each round.",
        "",
        "| figure | value | target | result |",
        "|---|---|---|---|",
        *(f"| {name} | {value} | {target} | {result} |" for name, value, target, result in rows),
        "",
        f"Overall: {'pass' if ok else 'FAIL'}.",
        END,
    ]
    return "\n".join(lines)


def _mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def write(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    doc = pattern.sub(lambda _m: text, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="bursts, one after the other")
    parser.add_argument("--at-once", type=int, default=200, help="recipients answering at once in a burst")
    parser.add_argument(
        "--threads",
        nargs="+",
        type=int,
        default=[0],
        help="gunicorn threads per worker, variants interleaved in rounds (0: gunicorn.conf.py's)",
    )
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument("--allies", type=int, default=20, help="allies whose links share the answers")
    parser.add_argument("--release-interval", type=int, default=5, help="RELEASE_INTERVAL_SECONDS for the worker")
    parser.add_argument("--release-timeout", type=float, default=300, help="give up waiting for releases after this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    when = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="allyloop-load-pg-") as tmp:
        figures = run(args, Path(tmp))
    text = section(args, figures, when)
    print(text)
    if not args.no_doc:
        write(text)
    failed = figures["lost"] or figures["server_errors"] or figures["released"] != figures["accepted"]
    return 1 if failed or statistics.median(next(iter(figures["p50_ms"].values()))) > 150 else 0


if __name__ == "__main__":
    sys.exit(main())
