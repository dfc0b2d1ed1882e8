"""A real SMTP server for tests, in a process of its own: ``python tests/smtp_sink.py PORT FOLDER``.

It listens on 127.0.0.1:PORT (aiosmtpd), files each message it accepts in FOLDER as it came
over the wire, and refuses recipients the way real servers do: for good (550) when the
address starts with "refuse", for now (451) when it starts with "busy". ``tests.servers.SmtpSink``
starts and stops it; SIGTERM ends it.
"""

import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        local = address.lower()
        if local.startswith("refuse"):
            return "550 5.1.1 No such mailbox here"
        if local.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(envelope.original_content)
        os.replace(partial, self.folder / name)  # complete before the client hears "250"
        return "250 OK"


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    Controller(Sink(folder), hostname="127.0.0.1", port=port).start()
    threading.Event().wait()  # serve until SIGTERM ends the process


if __name__ == "__main__":
    main()
