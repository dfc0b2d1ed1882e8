"""(b) release throughput against raw HPKE opens, and (c) peak memory of one large release.

Both build a fresh SQLite database with N pending responses in one ally scope. Each row
is a real envelope of a valid answer, sealed to the current response key with the info
the server would give its link (key id, questionnaire, link binding of a fresh token).

(c) runs as its own process so its memory figures are clean:
``python -m bench.release memory --n 100000 --workdir DIR`` prints one JSON line.
"""

import argparse
import json
import multiprocessing
import random
import re
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from api import create_app
from api.config import Settings
from api.extensions import db
from bench import envelopes
from crypto import envelope, keyring, tokens
from feedback import questionnaires
from feedback.models import Account, Envelope, Membership, Response
from feedback.release import run
from feedback.services import actions, groups, keys
from feedback.services.scopes import scope_for

BATCH = 1000
SLICES = (("credit", "public"), ("amplify", "private"), ("sponsor", "public"), ("change_process", "private"))


@dataclass
class Dataset:
    app: Any
    kek: bytes
    scope_id: int
    n: int
    kid: str
    sealed: list[tuple[bytes, bytes]]  # (info, sealed), kept only when asked for
    setup_seconds: float


def build(workdir: Path, n: int, *, keep: bool, seed: int) -> Dataset:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    kek_text = keyring.new_kek()
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'release.sqlite3'}",
        redis_url=None,
        secret_key="bench-release-secret-key-0123456789abcdef",
        public_base_url="http://127.0.0.1:5000",
        release_min_responses=5,
        port=5000,
        key_encryption_key=keyring.parse_kek(kek_text),
        password_cost=2**4,
        ratelimit_enabled=False,
    )
    app = create_app(settings, instance_path=str(workdir / "instance"))
    today = date.today()
    now = datetime.now()
    rng = random.Random(seed)
    questionnaire = questionnaires.load(envelopes.QUESTIONNAIRE_ID)
    kept: list[tuple[bytes, bytes]] = []
    with app.app_context():
        session = db.session
        db.create_all()
        key = keys.rotate(session, keyring.parse_kek(kek_text), now=now)
        lead, ally = (
            Account(email=f"{name}@bench.example.org", name=name, password_hash=None, created_on=today, verified=True)
            for name in ("lead", "ally")
        )
        session.add_all([lead, ally])
        session.flush()
        group = groups.create_group(session, lead, name="Bench ERG", today=today)
        session.add(Membership(group_id=group.id, account_id=ally.id, role="ally"))
        for kind, visibility in SLICES:
            actions.log_action(
                session,
                ally,
                group_id=group.id,
                kind=kind,
                summary="bench",
                occurred_on=today,
                visibility=visibility,
                today=today,
            )
        ally_scope = scope_for(session, "ally", ally.id, questionnaire.id)
        group_scope = scope_for(session, "group", group.id, questionnaire.id)
        kid, public, ally_id = key.kid, key.public_key, ally.id
        scope_ids = (ally_scope.id, group_scope.id)
        session.commit()
        for start in range(0, n, BATCH):
            rows, envelope_rows = [], []
            for index in range(start, min(n, start + BATCH)):
                answers, comment = envelopes.random_answer(rng, questionnaire)
                info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(tokens.new_link_token()))
                sealed = envelopes.seal(public, info, envelopes.plaintext(answers, comment, questionnaire.pad_to))
                kind, visibility = SLICES[index % len(SLICES)]
                rows.append(
                    {
                        "ally_scope_id": scope_ids[0],
                        "group_scope_id": scope_ids[1],
                        "ally_id": ally_id,
                        "kind": kind,
                        "visibility": visibility,
                        "person": index.to_bytes(32, "big"),  # each answer from its own recipient (P8)
                        "invalid": False,
                    }
                )
                envelope_rows.append({"kid": kid, "info": info, "sealed": sealed, "digest": envelopes.digest(sealed)})
                if keep:
                    kept.append((info, sealed))
            ids = session.scalars(insert(Response).returning(Response.id, sort_by_parameter_order=True), rows).all()
            for response_id, envelope_row in zip(ids, envelope_rows, strict=True):
                envelope_row["response_id"] = response_id
            session.execute(insert(Envelope), envelope_rows)
            session.commit()
        pending = session.scalar(
            select(func.count()).where(Response.ally_scope_id == scope_ids[0], Response.ally_cohort_id.is_(None))
        )
        assert pending == n, pending
        session.remove()
    return Dataset(app, keyring.parse_kek(kek_text), scope_ids[0], n, kid, kept, time.monotonic() - started)


def release(
    data: Dataset, on_released: Callable[[], None] | None = None, *, processes: int = 1
) -> tuple[float, float, int]:
    """Time feedback.release.run.release_scope on the whole scope, then its commit: (release s, commit s, released).

    ``on_released`` runs between the two, for a measurement of the release alone.
    """
    with data.app.app_context():
        session = db.session()  # the Session itself, as the app's views and jobs hand it over
        settings = run.ReleaseSettings(k=5, comment_key=data.app.config["COMMENT_KEY"], processes=processes)
        loader = keys.private_keys(session, data.kek)
        started = time.perf_counter()
        cohort = run.release_scope(session, data.scope_id, keys=loader, settings=settings, today=date.today())
        released = time.perf_counter()
        if on_released is not None:
            on_released()
        committed = time.perf_counter()
        session.commit()
        done = time.perf_counter()
        assert cohort is not None and cohort.responses == data.n, cohort and cohort.responses
        count = cohort.responses
        db.session.remove()
    return released - started, done - committed, count


def raw_open(data: Dataset) -> float:
    """Seconds for cryptography's Suite.decrypt alone on the same envelopes with the same key."""
    with data.app.app_context():
        private = keys.private_keys(db.session, data.kek)(data.kid)
        db.session.remove()
    started = time.perf_counter()
    for info, sealed in data.sealed:
        envelopes.SUITE.decrypt(sealed, private, info)
    return time.perf_counter() - started


@dataclass
class ThroughputResult:
    n: int
    processes: int
    child_peak_rss_mb: float  # the largest RSS any pool process reached (0 without a pool)
    setup_seconds: float
    raw_seconds: float
    release_seconds: float
    commit_seconds: float

    @property
    def raw_rate(self) -> float:
        return self.n / self.raw_seconds

    @property
    def release_rate(self) -> float:
        return self.n / self.release_seconds

    @property
    def ratio(self) -> float:
        return self.release_rate / self.raw_rate


def throughput(workdir: Path, n: int, seed: int, processes: int = 1) -> ThroughputResult:
    if processes > 1 and n < run.POOL_FROM:
        raise ValueError(f"a release opens on several processes from {run.POOL_FROM:,} answers on")
    data = build(workdir, n, keep=True, seed=seed)
    before = raw_open(data)
    with ChildMemory() as children:
        seconds, commit, _ = release(data, processes=processes)
    # The faster of two raw runs, one on each side of the release: on a shared machine the
    # speed drifts, and the faster raw rate is the harder one to compare with.
    raw = min(before, raw_open(data))
    with data.app.app_context():
        db.engine.dispose()
    return ThroughputResult(
        n=n,
        processes=processes,
        child_peak_rss_mb=children.peak_mb,
        setup_seconds=data.setup_seconds,
        raw_seconds=raw,
        release_seconds=seconds,
        commit_seconds=commit,
    )


class ChildMemory:
    """Samples the RSS of this process's children (the release's pool) while in the block.

    ``ru_maxrss`` of the children would not do: a spawned child is forked before it execs,
    so for a moment it counts the parent's whole memory as its own.
    """

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "ChildMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        # Only this process's own children: scanning all of /proc every 50 ms took about a
        # tenth of a one-process release's time (the scan competes with it for the GIL).
        while not self._stop.wait(0.05):
            for child in multiprocessing.active_children():
                try:
                    text = Path(f"/proc/{child.pid}/status").read_text()
                except OSError:
                    continue  # it ended meanwhile
                rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
                if rss:
                    self.peak_mb = max(self.peak_mb, int(rss.group(1)) / 1024)


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the next peak is the release's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory(workdir: Path, n: int, seed: int) -> dict[str, Any]:
    data = build(workdir, n, keep=False, seed=seed)
    setup_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    rss_before = _status_kb("VmRSS")
    reset = _reset_peak_rss()
    peak: list[int] = []
    tracemalloc.start()

    def stop_tracing() -> None:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()

    seconds, commit_seconds, _ = release(data, on_released=stop_tracing)
    traced_peak = peak[0]
    with data.app.app_context():
        db.engine.dispose()
    return {
        "n": n,
        "setup_seconds": data.setup_seconds,
        "release_seconds": seconds,
        "commit_seconds": commit_seconds,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "rss_before_mb": rss_before / 1024,
        "release_peak_rss_mb": _status_kb("VmHWM") / 1024 if reset else None,
        "setup_maxrss_mb": setup_maxrss / 1024,
        "overall_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["memory", "throughput"])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--processes", type=int, default=1, help="RELEASE_PROCESSES for the throughput release")
    args = parser.parse_args()
    if args.what == "memory":
        out = memory(args.workdir, args.n, args.seed)
    else:
        result = throughput(args.workdir, args.n, args.seed, args.processes)
        out = {
            **asdict(result),
            "raw_rate": result.raw_rate,
            "release_rate": result.release_rate,
            "ratio": result.ratio,
        }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
