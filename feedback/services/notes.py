"""An ally's private "what I'll try next" note: only its owner reads or writes it.

The note is encrypted at rest (``crypto.atrest``) like released comments: it is a
reflection about colleagues, may name them, and nobody but its author needs it, so a
copy of the database (a backup, a replica, a support dump) must not reveal it. The key
comes from the app's secret, so the web tier can still show the note to its author.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import atrest
from feedback.errors import Invalid
from feedback.models import Account, AllyNote

MAX_CHARS = 2000
KEY_PURPOSE = "ally-notes"  # for crypto.atrest.derive_key


@dataclass(frozen=True)
class Note:
    text: str
    updated_on: date | None
    unreadable: bool = False  # written under an earlier secret key: it cannot be shown


def _context(account_id: int) -> bytes:
    """Binds a note to its author: a row moved to another account does not decrypt."""
    return b"allyloop/ally-note/" + str(account_id).encode()


def read_note(session: Session, ally: Account, *, key: bytes) -> Note:
    row = session.scalar(select(AllyNote).where(AllyNote.account_id == ally.id))
    if row is None:
        return Note(text="", updated_on=None)
    try:
        text = atrest.decrypt(key, row.ciphertext, _context(ally.id)).decode()
    except atrest.AtRestError:
        return Note(text="", updated_on=row.updated_on, unreadable=True)
    return Note(text=text, updated_on=row.updated_on)


def save_note(session: Session, ally: Account, text: str, *, key: bytes, today: date) -> Note:
    """Replace the ally's note; an empty note deletes it."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_CHARS:
        raise Invalid("the note is too long", {"text": f"at most {MAX_CHARS} characters"})
    row = session.scalar(select(AllyNote).where(AllyNote.account_id == ally.id))
    if not text:
        if row is not None:
            session.delete(row)
            session.flush()
        return Note(text="", updated_on=None)
    blob = atrest.encrypt(key, text.encode(), _context(ally.id))
    if row is None:
        session.add(AllyNote(account_id=ally.id, ciphertext=blob, updated_on=today))
    else:
        row.ciphertext, row.updated_on = blob, today
    session.flush()
    return Note(text=text, updated_on=today)
