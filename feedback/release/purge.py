"""The purge: forget what expired long ago (links, tokens, invitations). Callers commit."""

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from feedback.models import AccountToken, ApiToken, Invitation, Link

# Used or expired links answer 410 for this long after expiry, then are forgotten (404).
LINK_GRACE = timedelta(days=30)


def purge(session: Session, *, now: datetime) -> int:
    """Forget links that expired long ago, expired API and account tokens, and invitations
    that expired unaccepted long ago (until then their link says "expired", not "unknown")."""
    gone = session.execute(delete(Link).where(Link.expires_at < now - LINK_GRACE))
    session.execute(delete(ApiToken).where(ApiToken.expires_at < now))
    session.execute(delete(AccountToken).where(AccountToken.expires_at < now))
    session.execute(
        delete(Invitation).where(Invitation.accepted_by.is_(None), Invitation.expires_at < now - LINK_GRACE)
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]
