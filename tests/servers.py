"""Throwaway PostgreSQL, Redis and SMTP servers, and the Procfile's processes, for tests on real services.

Each server lives in a temporary folder on loopback, on a free port, and can be stopped
and started again on the same port (the outage tests do that). Without the server
binaries a test is skipped locally with the reason, and fails in CI (``CI=true``), where
``.ci/run`` installs them.
"""

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from glob import glob
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def missing(what: str) -> None:
    """Skip locally, fail in CI: a service CI should have is never silently untested."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; .ci/run installs it")
    pytest.skip(f"{what} is not installed here (CI installs it); skipping the tests on real services")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Redis:
    """redis-server without persistence: a restart comes back empty, the hardest case."""

    def __init__(self, folder: Path) -> None:
        server = shutil.which("redis-server")
        if server is None:
            missing("redis-server")
        self.server = str(server)
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # The same server on a Unix socket too, in a short path (sockets allow about 100 bytes).
        self.socket = Path(tempfile.mkdtemp(prefix="redis-")) / "redis.sock"
        self.socket_url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        self.process = subprocess.Popen(
            [self.server, *args, "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Postgres:
    """A PostgreSQL cluster made with initdb in a temporary folder, trusting loopback only."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync on, as in production (benchmarks); tests run faster without
        found = sorted(glob("/usr/lib/postgresql/*/bin/postgres"))
        if not found:
            missing("PostgreSQL")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="allyloop-pg-"))
        self.folder.chmod(0o755)
        self.port = free_port()
        self.as_root = os.geteuid() == 0  # PostgreSQL refuses to run as root: run it as postgres
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "allyloop", "--auth=trust")
        self._databases = 0

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync={'on' if self.durable else 'off'}"
        )
        data, log = str(self.folder / "data"), str(self.folder / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        self._databases += 1
        name = f"allyloop_{self._databases}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "allyloop", name)
        return f"postgresql://allyloop@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres(*, durable: bool = False) -> Iterator[Postgres]:
    server = Postgres(durable=durable)
    try:
        server.start()
        yield server
    finally:
        server.remove()


def procfile(name: str) -> str:
    """The command of one Procfile process, as an operator's process manager runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(name)


class Process:
    """A Procfile process started with bash, in its own process group, so it can be killed whole."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name, self.env, self.log = name, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", f"exec {procfile(self.name)}"],  # noqa: S607 - the Procfile's own shell line
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """``kill -9``, no warning, to every process of the group."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def command_line(name: str) -> list[str]:
    return shlex.split(procfile(name))


class SmtpSink:
    """A real SMTP server (aiosmtpd, ``tests/smtp_sink.py``) in a process of its own, on a free
    loopback port: it keeps every message it accepts in ``folder``, refuses for good (550)
    recipients whose address starts with "refuse" and for now (451) those starting with
    "busy". ``stop()`` then ``start()`` brings it back on the same port, as a mail server
    coming back after an outage."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.log = folder.parent / f"{folder.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "smtp_sink.py"), str(self.port), str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the SMTP sink did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the SMTP sink does not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def messages(self) -> list[EmailMessage]:
        """Every message received, oldest first, parsed as a mail client would."""
        files = sorted(self.folder.glob("*.eml"), key=lambda path: int(path.name.split("-")[0]))
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in files]


class OidcProvider:
    """A real OpenID Provider (the certified oidc-provider on Node.js, ``tests/oidc/provider.mjs``)
    in a process of its own, on a free loopback port, with its development login and consent
    pages. ``clients`` are registered at start (``client_id``, ``client_secret``,
    ``redirect_uris``); the logins and their claims are the table in the script. ``host``
    names the issuer's host (``localhost`` puts it on another site than an app on 127.0.0.1);
    ``issuer`` replaces the whole URL, for a relay in front of the provider."""

    SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"

    def __init__(
        self, log: Path, clients: list[dict[str, Any]], *, host: str = "127.0.0.1", issuer: str | None = None
    ) -> None:
        node = shutil.which("node")
        if node is None:
            missing("Node.js, which runs the test OpenID Provider,")
        if not (self.SCRIPT.parent / "node_modules" / "oidc-provider").is_dir():
            missing("tests/oidc/node_modules (`make install` runs npm ci there)")
        self.node = str(node)
        self.log = log
        self.clients = clients
        self.port = free_port()
        self.issuer = issuer or f"http://{host}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "OIDC_TEST_CLIENTS": json.dumps(self.clients)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.node, str(self.SCRIPT), str(self.port), self.issuer],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the OpenID Provider did not start:\n{self.log.read_text(errors='replace')[-2000:]}"
                )
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the OpenID Provider does not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
