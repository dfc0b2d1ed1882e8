"""What a person may type: the bounds both edges check, the JSON API's schemas and the
pages' forms, so that the two never disagree about what is too long or out of range."""

from typing import Final

MAX_ID: Final = 2**31 - 1  # the largest id every database's integer column holds
EMAIL_CHARS: Final = 320  # as typed; feedback.addresses decides what is deliverable
PASSWORD_MIN: Final = 10
PASSWORD_MAX: Final = 200  # also the bound on a password typed to sign in or confirm
NAME_CHARS: Final = 120  # a person's or a group's name
SUMMARY_CHARS: Final = 200  # an action's summary
CONFIRM_CHARS: Final = 100  # the words typed to delete an account without a password
TOKEN_CHARS: Final = 64  # a verification token, as typed
