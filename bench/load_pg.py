"""The production shape under load, bounded, on loopback: 200 recipients at once submit sealed
envelopes to gunicorn (the Procfile's web line) on a throwaway PostgreSQL, with Redis and the
Procfile's worker releasing them. From the repository root:

    .venv/bin/python bench/load_pg.py          (or: make bench-pg)

Reports accepted (202), any 5xx (must be 0), lost (accepted but not stored: must be 0),
released (each accepted answer in exactly one cohort of its ally's scope, after the
scheduler's ticks), and submit latency p50/p95. Writes its section of docs/benchmarks.md
unless ``--no-doc``. Exits non-zero when anything was lost, a 5xx was seen, or answers
stayed unreleased past ``--release-timeout``.
"""

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, web  # noqa: E402 - after the path fix above, for `python bench/load_pg.py`
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
    with servers.postgres() as postgres:
        redis = servers.Redis(workdir)
        redis.start()
        worker: servers.Process | None = None
        try:
            env = web.environment(workdir, postgres.new_database())
            env.update(REDIS_URL=redis.url, RELEASE_INTERVAL_SECONDS=str(args.release_interval))
            started = time.monotonic()
            work = web.prepare(workdir, env, args.submits, args.allies, args.seed)
            setup = time.monotonic() - started
            web_env = {k: v for k, v in env.items() if k != "KEY_ENCRYPTION_KEY"}  # the web tier holds no private key
            worker = servers.Process("worker", env, workdir / "worker.log")
            worker.start()
            with web.Gunicorn("api:create_app()", web_env, args.workers, workdir / "web.log") as server:
                processes = 4
                result = load.run(
                    "127.0.0.1", server.port, work, processes=processes, threads=args.concurrency // processes
                )
            accepted = result.statuses.get(202, 0)
            deadline = time.monotonic() + args.release_timeout
            tally = counts(env, workdir)
            while tally["released"] + tally["invalid"] < accepted and time.monotonic() < deadline:
                time.sleep(1)
                tally = counts(env, workdir)
            release_wait = time.monotonic() - started - setup
        finally:
            if worker is not None:
                worker.kill()
            redis.stop()
    return {
        "submits": len(work),
        "concurrency": processes * (args.concurrency // processes),
        "accepted": accepted,
        "statuses": dict(sorted(result.statuses.items())),
        "server_errors": sum(n for status, n in result.statuses.items() if status >= 500),
        "connection_errors": len(result.errors),
        "lost": accepted - tally["stored"],
        "released": tally["released"],
        "in_cohorts": tally["in_cohorts"],
        "invalid": tally["invalid"],
        "p50_ms": result.percentile(0.50) * 1000,
        "p95_ms": result.percentile(0.95) * 1000,
        "rate": result.rate,
        "setup_s": setup,
        "until_released_s": release_wait,
    }


def section(args: argparse.Namespace, figures: dict[str, Any], when: datetime) -> str:
    ok = figures["lost"] == 0 and figures["server_errors"] == 0 and figures["released"] == figures["accepted"]
    rows = [
        ("submits sent, each once (no retries)", f"{figures['submits']:,}", "", ""),
        ("recipients submitting at once", f"{figures['concurrency']}", "200", ""),
        ("accepted (202)", f"{figures['accepted']:,}", "all", _mark(figures["accepted"] == figures["submits"])),
        ("responses by status", ", ".join(f"{s}: {n}" for s, n in figures["statuses"].items()), "", ""),
        ("5xx responses", f"{figures['server_errors']}", "0", _mark(figures["server_errors"] == 0)),
        ("lost (accepted, not stored)", f"{figures['lost']}", "0", _mark(figures["lost"] == 0)),
        (
            "released, each in exactly one ally cohort",
            f"{figures['released']:,} (cohorts hold {figures['in_cohorts']:,})",
            "= accepted",
            _mark(figures["released"] == figures["accepted"] == figures["in_cohorts"]),
        ),
        ("submit latency p50 / p95, ms", f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f}", "", ""),
        ("submits/s", f"{figures['rate']:.0f}", "", ""),
        (
            "from server start until every answer was released, s",
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
        f"make bench-pg    # .venv/bin/python bench/load_pg.py --submits {args.submits} "
        f"--concurrency {args.concurrency} --workers {args.workers} --release-interval {args.release_interval}",
        "```",
        "",
        f"- **Run:** {when:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"gunicorn with {args.workers} workers (the Procfile's `web` line, bound to loopback), one RQ worker "
        "(the Procfile's `worker` line), a throwaway PostgreSQL 15 and redis-server, all on this machine.",
        f"- **Setup** (accounts, {args.allies} allies, links, sealing every envelope in advance): "
        f"{figures['setup_s']:.0f} s, not timed below.",
        "",
        "| figure | value | target | result |",
        "|---|---|---|---|",
        *(f"| {name} | {value} | {target} | {result} |" for name, value, target, result in rows),
        "",
        f"gunicorn's sync workers answer one request each at a time, so with {figures['concurrency']} "
        f"recipients at once most of the latency is waiting in line: {figures['concurrency']} ÷ "
        f"{figures['rate']:.0f}/s ≈ {figures['concurrency'] / max(figures['rate'], 1):.1f} s. "
        "More web processes (WEB_CONCURRENCY) or machines shorten the line; nothing is dropped meanwhile.",
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
    parser.add_argument("--submits", type=int, default=1000, help="answers submitted, one per link")
    parser.add_argument("--concurrency", type=int, default=200, help="recipients submitting at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--allies", type=int, default=20, help="allies whose links share the submits")
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
