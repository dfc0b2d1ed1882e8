"""A measuring stick for (a): the least a Flask view can do and still store an answer durably.

Not Allyloop and not for use: one route, raw ``sqlite3``, no schema validation, no error
shape, no rate limit, no ORM, no background releases. It keeps only what any answer
endpoint must do on the embedded default: parse the body, find the link by its hash and
check the key id (in a read transaction), then spend the link, insert the response and its
envelope and commit with a sync to disk (P7), in a write transaction. bench/web.py serves it
with the same gunicorn command as the hello-world app and Allyloop, on a copy of the same
database, so that floor/hello says how close to the 0.5 target any implementation could come.

``create_group_app`` is the best durable floor (issue 15): the same checks, then the write
handed to api/commit.py's committer, as Allyloop's submit does on SQLite: a savepoint per
answer, one synced COMMIT per batch of the answers that arrived together in a worker, each
202 sent only after the COMMIT that holds it, and the workers' committers queued on a file
lock. It batches only when a worker serves requests on several threads (gunicorn --threads).
"""

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from flask import Flask, request

from crypto import envelope, tokens
from crypto.atrest import derive_key
from crypto.encoding import b64u_decode

LINK = (
    "SELECT link.id, link.used, request.questionnaire_id, request.stage, request.ally_scope_id,"
    " request.group_scope_id, action.ally_id, action.kind, action.visibility, link.recipient_hash"
    " FROM link JOIN feedback_request AS request ON link.request_id = request.id"
    " JOIN action ON request.action_id = action.id WHERE link.token_hash = ?"
)
RESPONSE = (
    "INSERT INTO response (ally_scope_id, group_scope_id, ally_id, kind, visibility, stage, person, invalid)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 0) RETURNING id"
)
ENVELOPE = "INSERT INTO envelope (response_id, kid, info, sealed, digest) VALUES (?, ?, ?, ?, ?)"

_local = threading.local()


def connection() -> sqlite3.Connection:
    """One connection per worker thread, opened after gunicorn forks, tuned as api/sqlite.py tunes."""
    if not hasattr(_local, "connection"):
        path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
        _local.connection = sqlite3.connect(path, isolation_level=None, timeout=10)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL"):
            _local.connection.execute(f"PRAGMA {pragma}")
    return _local.connection  # type: ignore[no-any-return]


def _checked(db: sqlite3.Connection, token: str, kid: str, people_key: bytes) -> tuple[Any, ...] | None:
    """The link's row and what storing an answer to it needs, or None (no such link or key)."""
    db.execute("BEGIN")
    link = db.execute(LINK, (tokens.link_lookup_hash(token),)).fetchone()
    known = db.execute("SELECT 1 FROM response_key WHERE kid = ?", (kid,)).fetchone()
    db.execute("COMMIT")
    if link is None or link[1] or known is None:
        return None
    link_id, _, questionnaire_id, stage, ally_scope, group_scope, ally, kind, visibility, recipient = link
    person = None if recipient is None else tokens.person_tag(people_key, recipient)
    info = envelope.build_info(kid, questionnaire_id, tokens.link_binding(token))
    return link_id, (ally_scope, group_scope, ally, kind, visibility, stage, person), info


def _write(db: sqlite3.Connection, link_id: int, row: tuple[Any, ...], kid: str, info: bytes, blob: bytes) -> str:
    digest = hashlib.sha256(blob).digest()
    if db.execute("UPDATE link SET used = 1 WHERE id = ? AND used = 0", (link_id,)).rowcount != 1:
        raise LookupError("the link was spent meanwhile")
    (response_id,) = db.execute(RESPONSE, row).fetchone()
    db.execute(ENVELOPE, (response_id, kid, info, blob, digest))
    return digest.hex()[:20]


def create_group_app() -> Flask:
    """The floor with group commit: checks on a connection per thread, writes through a committer."""
    from api import commit, sqlite

    app = Flask("floor-group")
    people_key = derive_key(os.environ["SECRET_KEY"], "recipients")
    path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
    committer = commit.Committer(lambda: sqlite.connect(path, shared=True), Path(path + ".writers"))
    readers = threading.local()

    @app.post("/api/v1/answer/<token>")
    def submit(token: str) -> tuple[dict[str, Any], int]:
        body = request.get_json()
        kid, blob = body["kid"], b64u_decode(body["sealed"])
        if not hasattr(readers, "db"):
            readers.db = sqlite3.connect(path, isolation_level=None, timeout=10)
        checked = _checked(readers.db, token, kid, people_key)
        if checked is None:
            return {"error": "no such link or key"}, 404
        link_id, row, info = checked
        try:
            receipt = committer.write(lambda db: _write(db, link_id, row, kid, info, blob))
        except LookupError:
            return {"error": "the link was spent meanwhile"}, 410
        return {"receipt": receipt}, 202

    return app


def create_app() -> Flask:
    app = Flask("floor")
    people_key = derive_key(os.environ["SECRET_KEY"], "recipients")  # as Allyloop keys recipients (P8)

    @app.post("/api/v1/answer/<token>")
    def submit(token: str) -> tuple[dict[str, Any], int]:
        body = request.get_json()
        kid, blob = body["kid"], b64u_decode(body["sealed"])
        db = connection()
        db.execute("BEGIN")
        link = db.execute(LINK, (tokens.link_lookup_hash(token),)).fetchone()
        known = db.execute("SELECT 1 FROM response_key WHERE kid = ?", (kid,)).fetchone()
        db.execute("COMMIT")
        if link is None or link[1] or known is None:
            return {"error": "no such link or key"}, 404
        link_id, _, questionnaire_id, stage, ally_scope, group_scope, ally, kind, visibility, recipient = link
        person = None if recipient is None else tokens.person_tag(people_key, recipient)
        info = envelope.build_info(kid, questionnaire_id, tokens.link_binding(token))
        digest = hashlib.sha256(blob).digest()
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("UPDATE link SET used = 1 WHERE id = ? AND used = 0", (link_id,)).rowcount != 1:
                raise RuntimeError("the link was spent meanwhile")
            row = (ally_scope, group_scope, ally, kind, visibility, stage, person)
            (response_id,) = db.execute(RESPONSE, row).fetchone()
            db.execute(ENVELOPE, (response_id, kid, info, blob, digest))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return {"receipt": digest.hex()[:20]}, 202

    return app
