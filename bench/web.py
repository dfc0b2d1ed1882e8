"""(a) Answer submits per second under gunicorn, against a hello-world Flask app served the same way."""

import contextlib
import dataclasses
import email.policy
import itertools
import json
import os
import random
import re
import runpy
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from bench import envelopes, load, spread
from crypto import keyring

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LINKS_PER_REQUEST = 50  # colleagues per delivered request: the API's maximum per call
KINDS = ("credit", "amplify", "sponsor", "change_process", "connect", "confront_bias")


@dataclass
class WebResult:
    hello: load.LoadResult
    submit: load.LoadResult
    hello_server_cpu: float
    submit_server_cpu: float
    # bench/floor.py's group-commit floor on a copy of the same SQLite database; None on PostgreSQL
    floor: load.LoadResult | None
    floor_server_cpu: float
    workers: int
    processes: int
    threads: int
    allies: int
    responses_stored: int
    cohorts_released: int
    released_in_run: int
    setup_seconds: float

    @property
    def ratio(self) -> float:
        return self.submit.rate / self.hello.rate if self.hello.rate else 0.0

    @property
    def floor_ratio(self) -> float | None:
        return self.floor.rate / self.hello.rate if self.floor is not None and self.hello.rate else None

    @property
    def submit_floor_ratio(self) -> float | None:
        return self.submit.rate / self.floor.rate if self.floor is not None and self.floor.rate else None


def environment(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "WEB_CONCURRENCY")}
    env.update(
        SECRET_KEY="bench-" + os.urandom(24).hex(),
        KEY_ENCRYPTION_KEY=keyring.new_kek(),
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        RELEASE_MIN_RESPONSES="5",
        RELEASE_INTERVAL_SECONDS="2",  # releases compete with the submits, as on a busy day
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        FLASK_APP="api:create_app",
    )
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def _env(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare(workdir: Path, env: dict[str, str], links: int, allies: int, seed: int) -> list[tuple[str, bytes]]:
    """Migrate, make a key, then accounts, a group, actions and links through the API, and
    seal one envelope per link (GET the answer page, seal to its key and info). Returns the work."""
    _flask(env, "db", "downgrade", "base")  # a fresh schema, on SQLite or a reused PostgreSQL database
    _flask(env, "db", "upgrade")
    _flask(env, "keys", "init")
    from api import create_app
    from api.config import from_environment
    from api.extensions import db
    from api.jobs.deliver import send_letters_now

    instance = workdir / "instance"
    with _env(env):
        # Emails with links go out inline, into the development outbox, where each
        # recipient's token is read back as they would read it from their mail.
        app = create_app(
            dataclasses.replace(from_environment(str(instance)), jobs_inline=True), instance_path=str(instance)
        )
    client = app.test_client()
    recipients = itertools.count(1)

    def mailed(path: str) -> dict[str, str]:
        with app.app_context():  # with REDIS_URL the web tier only queued them for a worker
            while send_letters_now().sent:  # a batch at a time
                pass
        return _tokens_mailed(instance / "outbox", path)

    def person(name: str) -> dict[str, str]:
        email = f"{name}@bench.example.org"
        body = {"email": email, "password": "bench password 1234", "name": name}
        assert client.post("/api/v1/accounts", json=body).status_code == 202
        verified = client.post("/api/v1/accounts/verify", json={"token": mailed("verify")[email]})
        assert verified.status_code == 200, verified.get_json()
        token = client.post("/api/v1/tokens", json={"email": email, "password": body["password"]})
        assert token.status_code == 201, token.get_json()
        return {"email": email, "auth": f"Bearer {token.get_json()['token']}"}

    lead = person("lead")
    group = client.post("/api/v1/groups", json={"name": "Bench ERG"}, headers={"Authorization": lead["auth"]})
    assert group.status_code == 201
    group_id = group.get_json()["id"]
    team = [person(f"ally{i}") for i in range(allies)]
    for ally in team:
        invited = client.post(
            f"/api/v1/groups/{group_id}/members",
            json={"email": ally["email"], "role": "ally"},
            headers={"Authorization": lead["auth"]},
        )
        assert invited.status_code == 202
        invitation = mailed("invitations")[ally["email"]]
        joined = client.post(f"/api/v1/invitations/{invitation}", headers={"Authorization": ally["auth"]})
        assert joined.status_code == 200, joined.get_json()
    # Links round-robin over the allies' actions, so cohorts form in every ally scope and the group.
    per_ally: list[list[str]] = [[] for _ in team]
    for index, ally in enumerate(team):
        headers = {"Authorization": ally["auth"]}
        while len(per_ally[index]) < -(-links // allies):
            action = client.post(
                "/api/v1/actions",
                json={
                    "group_id": group_id,
                    "kind": KINDS[(index + len(per_ally[index])) % len(KINDS)],
                    "summary": "Credited their design in the review",
                    "occurred_on": date.today().isoformat(),
                    "visibility": ("public", "private")[len(per_ally[index]) % 2],
                },
                headers=headers,
            )
            assert action.status_code == 201, action.get_json()
            colleagues = [f"colleague{next(recipients)}@bench.example.org" for _ in range(LINKS_PER_REQUEST)]
            made = client.post(
                f"/api/v1/actions/{action.get_json()['id']}/requests",
                json={"stage": "immediate", "recipients": colleagues},  # delivered: they count toward k (P8)
                headers=headers,
            )
            assert made.status_code == 201, made.get_json()
            per_ally[index].extend(colleagues)
    # The outbox read once, after every request: read after each, it made preparing n links
    # take time in n squared.
    mailed_links = mailed("r")
    tokens = [mailed_links[to] for row in zip(*per_ally, strict=True) for to in row][:links]
    rng = random.Random(seed)
    work = []
    for token in tokens:
        page = client.get(f"/api/v1/answer/{token}")
        assert page.status_code == 200, page.get_json()
        body = envelopes.seal_for_page(page.get_json(), rng)
        work.append((f"/api/v1/answer/{token}", json.dumps(body).encode()))
    # Its requests started the in-process jobs threads: left running, their ticks would
    # compete with the servers being measured for the cores and the database.
    app.extensions["allyloop.jobs"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return work


def _tokens_mailed(outbox: Path, path: str) -> dict[str, str]:
    """Each address's latest token of the links ``/{path}/<token>`` the app emailed, as its
    owner would read it from their mail."""
    found: dict[str, tuple[float, str]] = {}
    for file in outbox.glob("*.eml"):
        mail = BytesParser(policy=email.policy.default).parsebytes(file.read_bytes())
        match = re.search(rf"/{path}/([A-Za-z0-9_-]{{22}})\b", mail.get_body().get_content())  # type: ignore[union-attr]
        sent = file.stat().st_mtime
        if match and sent >= found.get(str(mail["To"]), (0.0, ""))[0]:
            found[str(mail["To"])] = (sent, match.group(1))
    return {to: token for to, (_, token) in found.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py -b 127.0.0.1:PORT -w N APP`` with the given environment."""

    def __init__(
        self, app: str, env: dict[str, str], workers: int | None, log: Path, threads: int | None = None
    ) -> None:
        """``workers`` or ``threads`` None: as gunicorn.conf.py says (the Procfile's web line)."""
        self.port = free_port()
        self.log = log
        self.args = [
            str(BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{self.port}",
            *(("-w", str(workers)) if workers is not None else ()),
            # 1: sync workers; more: gthread, several requests a worker
            *(("--threads", str(threads)) if threads is not None else ()),
            app,
        ]
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Gunicorn":
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            if self._booted() and self._accepts():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def _booted(self) -> bool:
        return "Booting worker" in self.log.read_text()

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)  # only the master we started; it stops its own workers
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def cpu_seconds(self) -> float:
        """User+system CPU of the master and its workers so far (from /proc)."""
        assert self.proc is not None
        pids = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _stat(entry.name)
                if stat and int(stat[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            stat = _stat(str(pid))
            if stat:
                total += (int(stat[11]) + int(stat[12])) / ticks  # utime, stime
        return total


def _stat(pid: str) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11])."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def _measure(
    server: Gunicorn, warm: load.Work, timed: load.Work, processes: int, threads: int
) -> tuple[load.LoadResult, float]:
    load.run("127.0.0.1", server.port, warm, processes=processes, threads=threads)
    cpu0 = server.cpu_seconds()
    result = load.run("127.0.0.1", server.port, timed, processes=processes, threads=threads)
    return result, server.cpu_seconds() - cpu0


def run(
    workdir: Path,
    *,
    submits: int,
    warmup: int,
    workers: int,
    processes: int,
    threads: int,
    allies: int,
    seed: int,
    database_url: str | None = None,
) -> WebResult:
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(workdir, database_url)
    started = time.monotonic()
    work = prepare(workdir, env, submits + warmup, allies, seed)
    setup = time.monotonic() - started
    warm, timed = work[:warmup], work[warmup:]
    with Gunicorn("bench.hello:create_app()", env, workers, workdir / "hello.log") as server:
        hello, hello_cpu = _measure(server, warm, timed, processes, threads)
    floor, floor_cpu = None, 0.0
    if database_url is None:  # the floor is written for the embedded default only
        floor_env = dict(env, DATABASE_URL=f"sqlite:///{_copy_sqlite(env['DATABASE_URL'], workdir / 'floor.sqlite3')}")
        with Gunicorn(APPS["floor-group"], floor_env, workers, workdir / "floor.log") as server:
            floor, floor_cpu = _measure(server, warm, timed, processes, threads)
    with Gunicorn("api:create_app()", env, workers, workdir / "allyloop.log") as server:
        submit, submit_cpu = _measure(server, warm, timed, processes, threads)
    stored, cohorts, released = _outcome(env, workdir)
    return WebResult(
        hello=hello,
        submit=submit,
        hello_server_cpu=hello_cpu,
        submit_server_cpu=submit_cpu,
        floor=floor,
        floor_server_cpu=floor_cpu,
        workers=workers,
        processes=processes,
        threads=threads,
        allies=allies,
        responses_stored=stored,
        cohorts_released=cohorts,
        released_in_run=released,
        setup_seconds=setup,
    )


def _copy_sqlite(url: str, copy: Path) -> Path:
    """A consistent copy of the prepared database (its links still unanswered), for the floor."""
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    with contextlib.closing(source), contextlib.closing(target):
        source.backup(target)
    return copy


def _outcome(env: dict[str, str], workdir: Path) -> tuple[int, int, int]:
    """What the submits left in the database: responses, cohorts, responses released to an ally."""
    from sqlalchemy import func, select

    from api import create_app
    from api.extensions import db
    from feedback.models import Cohort, Response

    with _env(env):
        app = create_app(instance_path=str(workdir / "instance"))
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Response)) or 0
        cohorts = db.session.scalar(select(func.count()).select_from(Cohort)) or 0
        released = db.session.scalar(select(func.count()).where(Response.ally_cohort_id.is_not(None))) or 0
        db.session.remove()
        db.engine.dispose()
    return stored, cohorts, released


def summary(result: WebResult) -> dict[str, Any]:
    return {
        "hello_rps": result.hello.rate,
        "submit_rps": result.submit.rate,
        "ratio": result.ratio,
        "statuses": dict(result.submit.statuses),
    }


class FlaskRun(Gunicorn):
    """``flask run`` (what ``make run`` serves with): one process, a thread per request."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__("api:create_app()", env, 1, log)
        self.args = [str(BIN / "flask"), "run", "--port", str(self.port), "--host", "127.0.0.1"]

    def _booted(self) -> bool:
        return "Running on" in self.log.read_text()


# Issue 15: the answer path against the durable floor, in interleaved rounds.
APPS = {
    "hello": "bench.hello:create_app()",
    "floor": "bench.floor:create_app()",
    "floor-group": "bench.floor:create_group_app()",
    "allyloop": "api:create_app()",
    # Allyloop with the release tick at its default (10 minutes): no release falls inside a
    # run, so this is the submit path alone; "allyloop" releases every 2 s, as on a busy day.
    "allyloop-quiet": "api:create_app()",
}
QUIET = {"RELEASE_INTERVAL_SECONDS": "600"}


def procfile_threads() -> int:
    """gunicorn.conf.py's threads per worker, as the Procfile's web line runs with."""
    return int(runpy.run_path(str(ROOT / "gunicorn.conf.py")).get("threads", 1))


@dataclass(frozen=True)
class Variant:
    """An app served by gunicorn with ``threads`` per worker (1: sync workers, more: gthread)."""

    app: str
    threads: int

    @classmethod
    def parse(cls, text: str, threads: int) -> "Variant":
        app, _, count = text.partition("@")
        if app not in APPS:
            raise ValueError(f"unknown app {app!r}: one of {', '.join(APPS)}")
        return cls(app, int(count) if count else threads)

    def __str__(self) -> str:
        return f"{self.app}@{self.threads}"


@dataclass
class Rounds:
    """Requests/s of each variant per round, and the statuses each variant got."""

    rates: dict[Variant, list[float]]
    statuses: dict[Variant, dict[int, int]]

    def ratio(self, app: Variant, base: Variant) -> list[float]:
        return [a / b for a, b in zip(self.rates[app], self.rates[base], strict=True)]


def compare(
    workdir: Path,
    *,
    rounds: int,
    submits: int,
    warmup: int,
    workers: int | None,
    variants: list[Variant],
    processes: int,
    clients: int,
    allies: int = 8,
    seed: int = 1,
) -> Rounds:
    """Every variant in every round, the order turning each round. In a round every variant
    gets the same links, each on its own copy of the prepared database (links fresh)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(workdir)
    per_round = submits + warmup
    work = prepare(workdir, env, rounds * per_round, allies, seed)
    rates: dict[Variant, list[float]] = {v: [] for v in variants}
    statuses: dict[Variant, Counter[int]] = {v: Counter() for v in variants}
    for index in range(rounds):
        chunk = work[index * per_round : (index + 1) * per_round]
        turn = index % len(variants)
        for variant in variants[turn:] + variants[:turn]:
            name = f"{variant.app}-{variant.threads}-{index}"
            copy = _copy_sqlite(env["DATABASE_URL"], workdir / f"{name}.sqlite3")
            served = dict(env, DATABASE_URL=f"sqlite:///{copy}", **(QUIET if variant.app == "allyloop-quiet" else {}))
            with Gunicorn(APPS[variant.app], served, workers, workdir / f"{name}.log", variant.threads) as server:
                load.run("127.0.0.1", server.port, chunk[:warmup], processes=processes, threads=clients)
                result = load.run("127.0.0.1", server.port, chunk[warmup:], processes=processes, threads=clients)
            for suffix in ("", "-wal", "-shm", ".writers"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            rates[variant].append(result.rate)
            statuses[variant].update(result.statuses)
            statuses[variant]["errors"] += len(result.errors)  # type: ignore[index]
            print(f"  round {index + 1} {variant!s:<18} {result.rate:7.0f}/s {dict(result.statuses)}", flush=True)
    return Rounds(rates, {v: dict(c) for v, c in statuses.items()})


def burst(
    workdir: Path, *, server: str, rounds: int, at_once: int, workers: int | None, threads: int | None, seed: int = 3
) -> list[tuple[float, float, dict[int, int]]]:
    """``at_once`` recipients submitting together, once per round, each round on a fresh
    server: (p50, p95, statuses) per round. ``server``: "gunicorn" (the Procfile's web line)
    or "flask-run" (what ``make run`` serves with)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(workdir)
    work = prepare(workdir, env, rounds * (at_once + 1), 8, seed)
    out = []
    for index in range(rounds):
        chunk = work[index * (at_once + 1) : (index + 1) * (at_once + 1)]
        log = workdir / f"burst-{server}-{index}.log"
        runner: Gunicorn = (
            FlaskRun(env, log) if server == "flask-run" else Gunicorn("api:create_app()", env, workers, log, threads)
        )
        with runner as running:
            # one request first, so that the app has loaded and opened its database
            load.run("127.0.0.1", running.port, chunk[:1], processes=1, threads=1)
            result = load.run("127.0.0.1", running.port, chunk[1:], processes=1, threads=at_once)
        out.append((result.percentile(0.5), result.percentile(0.95), dict(result.statuses)))
        p50, p95, seen = out[-1]
        print(f"  burst {server} round {index + 1}: p50 {p50 * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms {seen}", flush=True)
    return out


def cpu_one(workdir: Path, app: str, start: int, count: int) -> float:
    """CPU seconds per request of ``app`` served in this process, one WSGI call after another
    (no server, no network) on its own copy of the prepared database: ``count`` submits from
    ``start``, after 20 warm-up. Background threads (the release tick) count too."""
    env, work = json.loads((workdir / "work.json").read_text())
    copy = _copy_sqlite(env["DATABASE_URL"], workdir / f"cpu-{app}.sqlite3")
    served = dict(env, DATABASE_URL=f"sqlite:///{copy}", **(QUIET if app == "allyloop-quiet" else {}))
    os.environ.update(served)
    module, _, factory = APPS[app].removesuffix("()").partition(":")
    make = getattr(__import__(module, fromlist=[factory]), factory)
    wsgi = make(instance_path=str(workdir / "instance")) if module == "api" else make()
    from werkzeug.test import EnvironBuilder

    calls = [
        EnvironBuilder(path=path, method="POST", data=body.encode(), content_type="application/json").get_environ()
        for path, body in work[start : start + count + 20]
    ]
    seen: Counter[str] = Counter()

    def call(environ: dict[str, Any]) -> None:
        b"".join(wsgi(environ, lambda status, _headers, _exc=None: seen.update([status[:3]])))

    for environ in calls[:20]:
        call(environ)
    started = time.process_time()
    for environ in calls[20:]:
        call(environ)
    spent = (time.process_time() - started) / count
    if module == "api":  # a tick left running as the interpreter exits can abort it (daemon threads)
        wsgi.extensions["allyloop.jobs"].stop()
    if set(seen) != {"202"}:
        raise RuntimeError(f"{app}: not every submit was accepted: {dict(seen)}")
    return spent


def cpu(workdir: Path, *, rounds: int, submits: int, apps: list[str]) -> dict[str, list[float]]:
    """Each app in a process of its own per round, the order turning each round, on the same
    links (each on its own copy of the prepared database): CPU per request."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(workdir)
    work = prepare(workdir, env, rounds * (submits + 20), 8, 5)
    (workdir / "work.json").write_text(json.dumps([env, [(path, body.decode()) for path, body in work]]))
    out: dict[str, list[float]] = {app: [] for app in apps}
    for index in range(rounds):
        turn = index % len(apps)
        for app in apps[turn:] + apps[:turn]:
            start = str(index * (submits + 20))
            done = subprocess.run(
                [sys.executable, "-m", "bench.web", "cpu-one", str(workdir), app, start, str(submits)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            out[app].append(float(done.stdout.strip().splitlines()[-1]))
            print(f"  round {index + 1} {app:<16} {out[app][-1] * 1e3:.3f} ms of CPU a submit", flush=True)
    return out


def main() -> None:
    """Issue 15's figures: ``python -m bench.web compare``, ``burst`` or ``cpu``."""
    import argparse
    import tempfile

    if sys.argv[1:2] == ["cpu-one"]:  # one app of ``cpu``, in a process of its own
        workdir, app, start, count = sys.argv[2:6]
        print(cpu_one(Path(workdir), app, int(start), int(count)))
        return
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("what", choices=["compare", "burst", "cpu"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--submits", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="gunicorn threads per worker, gthread above 1 (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--client-threads", type=int, default=4)
    parser.add_argument("--server", choices=["gunicorn", "flask-run"], default="gunicorn")
    parser.add_argument("--at-once", type=int, default=50)
    parser.add_argument(
        "--apps",
        nargs="+",
        default=["hello", "floor-group", "allyloop"],
        help="compare: APP or APP@THREADS (threads per gunicorn worker; default --threads); apps: " + ", ".join(APPS),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="allyloop-bench-") as tmp:
        if args.what == "compare":
            variants = [Variant.parse(text, args.threads or procfile_threads()) for text in args.apps]
            got = compare(
                Path(tmp),
                rounds=args.rounds,
                submits=args.submits,
                warmup=args.warmup,
                workers=args.workers,
                variants=variants,
                processes=args.client_processes,
                clients=args.client_threads,
            )
            for variant, rates in got.rates.items():
                print(f"{variant!s:<18} requests/s {spread(rates, digits=0)}  statuses {got.statuses[variant]}")
            # Each ratio compares variants served alike (the same threads per worker).
            for app in variants:
                for base in variants:
                    if (
                        app.app != "hello"
                        and app != base
                        and app.threads == base.threads
                        and base.app in ("hello", "floor-group")
                    ):
                        print(f"{app} / {base}: {spread(got.ratio(app, base))}")
        elif args.what == "cpu":
            spent = cpu(Path(tmp), rounds=args.rounds, submits=args.submits, apps=args.apps)
            for app, values in spent.items():
                print(f"{app:<16} ms of CPU a submit {spread(values, 1e3, 3)}")
        else:
            runs = burst(
                Path(tmp),
                server=args.server,
                rounds=args.rounds,
                at_once=args.at_once,
                workers=args.workers,
                threads=args.threads,
            )
            print(f"p50 ms {spread([r[0] for r in runs], 1e3, 0)}; p95 ms {spread([r[1] for r in runs], 1e3, 0)}")


if __name__ == "__main__":
    main()
