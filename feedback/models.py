"""Database models. Plain SQLAlchemy 2 on a DeclarativeBase; nothing here knows Flask.

What a recipient sends is stored only as ciphertext (``Envelope``), and no time at all.
Links are stored as hashes; a response row holds no link, request or action id, and no
stored value joins one to the other without the app's secret key (see the README's
threat model for what the database engine's own bookkeeping may still reveal).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # None for an account that signs in only through the organisation's identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_on: Mapped[date] = mapped_column(Date)
    # Web sessions carry this number; signing out raises it, so a copied cookie stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The address was proven by a link sent to it (or by the identity provider): only then
    # may the account act, take a token or join a group (P8: no second account at will).
    verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "issuer subject" of the identity provider's account, once it signed in with SSO.
    sso_subject: Mapped[str | None] = mapped_column(String(400), nullable=True, unique=True)
    # The language the account last signed in with on the web ("fr"; None: the default), for
    # the emails sent without a browser to ask: reminders, and links mailed to those it asks.
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)


class AccountToken(Base):
    """A single-use token mailed to an account's address: to verify it, or to reset the
    password. Only its hash is kept; it is deleted when used."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # "verify" or "reset"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Group(Base):
    __tablename__ = "ally_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_on: Mapped[date] = mapped_column(Date)
    # Whoever created it, or was handed it: no co-lead can remove or demote the owner.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), nullable=True)


class Membership(Base):
    """One role per account and group. A lead may also log actions, like an ally."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("group_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("ally_group.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))


class Invitation(Base):
    """A lead's invitation to join a group, mailed to an address. The invitee joins only by
    accepting it, signed in with that verified address. Kept once accepted, so a second
    accept answers the same; expired ones are purged."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("ally_group.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))  # normalised; the leads list it while pending
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_on: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), nullable=True)


class Action(Base):
    __tablename__ = "action"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("ally_group.id", ondelete="CASCADE"), index=True)
    ally_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(200))
    # None while the action is planned: the ally asks for advice before acting, and gives
    # the day when marking it done (only then can they ask whether it helped).
    occurred_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    visibility: Mapped[str] = mapped_column(String(10))
    created_on: Mapped[date] = mapped_column(Date)

    @property
    def planned(self) -> bool:
        return self.occurred_on is None


class FeedbackRequest(Base):
    __tablename__ = "feedback_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    # Where this request's answers wait for release, fixed when the request is made.
    ally_scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id"))
    group_scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id"))
    link_count: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date)
    # Delivered (P8): the platform emailed each link to one named colleague; the ally never
    # held a token. Only then do the answers count toward k.
    delivered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # emails the mail server took


class Link(Base):
    """A single-use link. Only the hash of its token is kept, never the token."""

    __tablename__ = "link"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    # A delivered link's recipient, as a keyed hash of their normalised address: enough to
    # count distinct people, never the address; gone with the link. None: the ally held it.
    recipient_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class Delivery(Base):
    """An email waiting to be sent: one with a delivered link (``request_id``), or one about
    an account (verification, password reset, invitation), composed already.

    ``sealed`` holds the address and the link's token (or the composed email), encrypted at
    rest (``crypto.atrest``), and only until the mail server takes the message: then the row
    is deleted. A refused link keeps the address alone until the ally has been shown it.
    """

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_request.id", ondelete="CASCADE"), index=True, nullable=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10))  # "queued", "refused" or "expired" (never sent in time)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it may next be tried; a sender that takes it moves this ahead first, so a second
    # sender leaves it alone, and a sender that died releases it when this time comes.
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the link's: sending later is pointless


class ResponseKey(Base):
    """An organisation response key. The private half is wrapped under the KEK."""

    __tablename__ = "response_key"

    kid: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class Scope(Base):
    """Where cohorts form: one ally's (or one group's) responses to one questionnaire.

    Its row is locked while a release runs, which makes concurrent releases take turns.
    """

    __tablename__ = "scope"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "questionnaire_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "ally" or "group"
    subject_id: Mapped[int] = mapped_column(Integer)
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    # A group's answers wait for their breakdown (feedback.release.run, "hold"): the day this
    # scope's pending answers were first enough to release but were held; None when not held.
    held_since: Mapped[date | None] = mapped_column(Date, nullable=True)


class Response(Base):
    """One answer's place in the release process: which scopes it waits in, and the
    cohorts that released it. What the recipient sent is its ``Envelope``."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    ally_scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id"), index=True)
    group_scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id"), index=True)
    ally_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    visibility: Mapped[str] = mapped_column(String(10))
    # The request's stage (followup_30 or followup_90 share a questionnaire, so a release
    # slices by it); None for answers stored before the column existed.
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The recipient of a delivered link, keyed again so it matches no link's hash without
    # the app's secret; None for a link the ally held (counts toward no k). Kept only while
    # the answer is pending: deleted with its envelope.
    person: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    ally_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), nullable=True, index=True)
    group_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), nullable=True, index=True)


def _pending_index(name: str, scope: InstrumentedAttribute[int], cohort: InstrumentedAttribute[int | None]) -> Index:
    """An index of one view's pending answers, the only rows a release tick looks for: those
    not yet released to that view and not found invalid, so the tick's queries cost the same
    with a million released answers as with none.

    Its condition is written as the queries in ``feedback.release.run`` write theirs: SQLite uses a
    partial index only for a query whose WHERE holds the index's own terms. It holds every
    column those queries read (the cohort and invalid columns cost a byte each), because
    SQLite keeps no statistics here and would otherwise rate it no better than the plain
    index on the scope, which holds the scope's whole history.
    """
    waiting = and_(cohort.is_(None), Response.invalid.is_(False))
    columns = (scope, Response.person, Response.ally_id, cohort, Response.invalid)
    return Index(name, *columns, sqlite_where=waiting, postgresql_where=waiting)


_pending_index("ix_response_pending_ally", Response.ally_scope_id, Response.ally_cohort_id)
_pending_index("ix_response_pending_group", Response.group_scope_id, Response.group_cohort_id)


class Envelope(Base):
    """What a recipient sent, sealed: only ciphertext, its key id and HPKE info.

    Deleted once both of its response's scopes have released it (or it proved invalid):
    what is left then cannot be matched to a link, even by someone holding the link's
    URL. Kept apart from ``Response`` so releases update small rows, not ciphertext.
    """

    __tablename__ = "envelope"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)
    kid: Mapped[str] = mapped_column(ForeignKey("response_key.kid"))
    info: Mapped[bytes] = mapped_column(LargeBinary(200))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)  # refuses a replayed envelope


class Cohort(Base):
    """A release: the immutable aggregate document of at least k responses."""

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id"), index=True)
    released_on: Mapped[date] = mapped_column(Date)
    responses: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReleasedComment(Base):
    """A comment released with its cohort, encrypted at rest, ordered by a random position."""

    __tablename__ = "released_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Followup(Base):
    """A follow-up an ally owes an action: due from the day its first immediate request
    was made. Only days are kept; the row says nothing about who answered what."""

    __tablename__ = "followup"
    __table_args__ = (UniqueConstraint("action_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))  # followup_30 or followup_90
    due_on: Mapped[date] = mapped_column(Date, index=True)
    asked_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the follow-up request was made
    reminded_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the reminder email went out


class AllyNote(Base):
    """An ally's private "what I'll try next" note: one per ally, encrypted at rest.

    Only its owner reads it (``services.notes``); the text is bound to the owner's id, so
    a row moved to another account does not decrypt.
    """

    __tablename__ = "ally_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_on: Mapped[date] = mapped_column(Date)


class ScopeView(Base):
    """What a scope's readers see, kept up to date by each release in its own transaction
    (DESIGN §7: views are read, not recomputed). Released cohorts never change, so this is
    always the sum of the scope's cohorts, read as one row however many there are.

    ``view`` is ``feedback.release.combine.combine`` of the cohort documents and ``uncut`` what
    ``feedback.release.combine.Combined`` needs beside it to add the next one. ``months`` holds, per
    month of release ("YYYY-MM"), the answers released (``Cohort.responses``) and how many
    of them were "I'd rather not answer". ``comments`` counts released comment rows.
    """

    __tablename__ = "scope_view"

    # Deleted with its scope (an ally's own results go with their account).
    scope_id: Mapped[int] = mapped_column(ForeignKey("scope.id", ondelete="CASCADE"), primary_key=True)
    cohorts: Mapped[int] = mapped_column(Integer)
    responses: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer)
    view: Mapped[dict[str, Any]] = mapped_column(JSON)
    uncut: Mapped[list[str]] = mapped_column(JSON)
    months: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The newest cohort released before views were kept (0: none). Only those may hold
    # comments released before comments named their ally (``atrest.legacy_comment_context``).
    legacy_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ClosedMonths(Base):
    """A group's follow-up rate and response load over the months that have closed, as the
    release tick stored them once each month closed (``feedback.release.closing``): never recomputed,
    so an ally who deletes their account takes nothing out of a figure a lead was shown (P5).

    ``through`` is the first day of the first month not closed here; ``state`` is
    ``feedback.release.closing.State`` as JSON (sums, month boundaries and the last action counted: no ally id).
    """

    __tablename__ = "closed_months"

    group_id: Mapped[int] = mapped_column(ForeignKey("ally_group.id", ondelete="CASCADE"), primary_key=True)
    through: Mapped[date] = mapped_column(Date)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
