"""Domain errors. Entry points map each to an HTTP status; none carries secret data."""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(DomainError):
    """The input does not make sense (400)."""


class Unauthenticated(DomainError):
    """No valid credentials (401)."""


class Forbidden(DomainError):
    """Known caller, not allowed (403)."""


class NotFound(DomainError):
    """No such thing, or not one the caller may know about (404)."""


class Conflict(DomainError):
    """The thing exists already (409)."""


class Gone(DomainError):
    """A link that was used or has expired (410)."""


class Unverified(Forbidden):
    """The password was right, but the address is not verified yet (403 ``unverified``)."""
