"""The development outbox at /dev/outbox: the emails Allyloop sent while no MAIL_URL was set.

``api.mail`` files each of them in the instance folder; here a developer running ``make
run`` reads them and follows their links, so the whole loop works with no mail server.
The emails hold link tokens and addresses, so the pages exist only for this machine in
development: with MAIL_URL set, with a PUBLIC_BASE_URL others open, or for a request from
another machine, they answer 404 like any unknown page.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from api import mail
from api.config import Settings, is_loopback

bp = Blueprint("outbox", __name__, url_prefix="/dev/outbox")

# Links in a body: http(s) only, without the punctuation that ends a sentence after one.
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)"


@dataclass(frozen=True)
class Entry:
    name: str
    sent: str
    to: str
    subject: str


@bp.before_request
def only_in_development_on_this_machine() -> None:
    settings: Settings = current_app.config["ALLYLOOP"]
    here = is_loopback(request.remote_addr or "")
    if settings.mail_url is not None or not settings.local_only or not here:
        abort(404)


def _folder() -> Path:
    return mail.outbox_folder(current_app.instance_path)


def _read(path: Path, *, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as source:
        parsed: EmailMessage = BytesParser(policy=policy.default).parse(source, headersonly=headers_only)
    return parsed


def _sent(name: str) -> str:
    """When the email was filed, from its file name (UTC, as api.mail names it)."""
    return datetime.strptime(name[:22], "%Y%m%d-%H%M%S-%f").strftime("%Y-%m-%d %H:%M:%S UTC")


# No trailing-slash redirect: it would answer before the check above, and show the page exists.
@bp.get("", strict_slashes=False)
def index() -> Any:
    folder = _folder()
    found = folder.iterdir() if folder.is_dir() else iter(())  # no outbox before the first email
    names = sorted((p.name for p in found if mail.OUTBOX_NAME.match(p.name)), reverse=True)
    entries = []
    for name in names:
        head = _read(folder / name, headers_only=True)
        entries.append(Entry(name, _sent(name), str(head["To"] or ""), str(head["Subject"] or "")))
    return render_template("outbox/index.html", entries=entries)


def linked(text: str) -> list[list[list[tuple[str, str | None]]]]:
    """The body as paragraphs of lines of pieces: (text, None) or (url, url) for a link."""
    paragraphs: list[list[list[tuple[str, str | None]]]] = [[]]
    for line in text.splitlines():
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        pieces: list[tuple[str, str | None]] = []
        at = 0
        for found in _URL.finditer(line):
            url = found.group().rstrip(_TRAILING)
            pieces.append((line[at : found.start()], None))
            pieces.append((url, url))
            at = found.start() + len(url)
        pieces.append((line[at:], None))
        paragraphs[-1].append([piece for piece in pieces if piece[0]])
    return [paragraph for paragraph in paragraphs if paragraph]


@bp.get("/<name>")
def message(name: str) -> Any:
    path = _folder() / name
    if not mail.OUTBOX_NAME.match(name) or not path.is_file():
        abort(404)  # the pattern also keeps the name inside the outbox folder
    email = _read(path)
    body = email.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return render_template(
        "outbox/message.html",
        sent=_sent(name),
        sender=str(email["From"] or ""),
        to=str(email["To"] or ""),
        subject=str(email["Subject"] or ""),
        paragraphs=linked(text),
    )
