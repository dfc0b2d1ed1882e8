"""Work email addresses: one spelling per mailbox, and whether it is in the organisation.

``normalise`` accepts only the plain ``local@domain`` form (no display name, comment or
quoted local part) and gives one spelling per mailbox: trimmed, lowercased, without
plus-addressing, so ``Sam+x@Example.org`` and ``sam@example.org`` count as one recipient.
Aliases the domain does not reveal (``s.m@`` for ``sam@``) stay distinct: DESIGN says so.

Errors name the reason and never repeat the address: they may reach a log or a page.
"""

import string
from collections.abc import Sequence

from feedback.wording import N_, Wording

MAX_LENGTH = 254  # RFC 5321's limit on a path, the longest address a server takes
MAX_LABEL = 63
# RFC 5322 atext: what a local part may hold without quotes, besides dots between parts.
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~.")
_LABEL_CHARS = frozenset(string.ascii_letters + string.digits + "-")


def normalise(address: str) -> str:
    """The one spelling of a work address, or ValueError saying what is wrong with it."""
    address = address.strip()
    if not address:
        raise ValueError(Wording(N_("the email address is empty")))
    if len(address) > MAX_LENGTH:
        raise ValueError(Wording(N_("an email address has at most %(n)s characters"), n=MAX_LENGTH))
    if address.count("@") != 1:
        raise ValueError(Wording(N_("an email address has exactly one @, as in name@example.org")))
    local, domain_part = address.split("@")
    if not local:
        raise ValueError(Wording(N_("an email address needs a name before the @")))
    if any(c.isspace() or not c.isprintable() for c in local):
        raise ValueError(Wording(N_("an email address holds no spaces, and no name or comment around it")))
    if not set(local) <= _LOCAL_CHARS:
        allowed = ". _ - + ! # $ % & ' * / = ? ^ ` { | } ~"
        only = N_("the part before the @ may hold only ASCII letters, digits and %(allowed)s")
        raise ValueError(Wording(only, allowed=allowed))
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError(Wording(N_("the part before the @ cannot start or end with a dot, or hold two in a row")))
    mailbox = local.split("+", 1)[0]  # plus-addressing: sam+x@ is sam@'s mailbox
    if not mailbox:
        raise ValueError(Wording(N_("an email address needs a name before the +")))
    return f"{mailbox.lower()}@{domain(domain_part)}"


def domain(name: str) -> str:
    """A domain name, lowercased, or ValueError: labels of letters, digits and hyphens
    joined by dots, at least two of them (``example.org``)."""
    name = name.lower()
    if not name:
        raise ValueError(Wording(N_("the domain is empty")))
    labels = name.split(".")
    if len(labels) < 2:
        raise ValueError(Wording(N_("the domain needs a dot, as in example.org")))
    if any(not label for label in labels):
        raise ValueError(Wording(N_("the domain has an empty part (two dots in a row, or a dot at an end)")))
    if len(name) > MAX_LENGTH - 2:
        raise ValueError(Wording(N_("the domain is too long")))
    for label in labels:
        if not set(label) <= _LABEL_CHARS:
            raise ValueError(
                Wording(N_("a domain holds only letters, digits, hyphens and dots (write others as xn--…)"))
            )
        if len(label) > MAX_LABEL:
            raise ValueError(Wording(N_("each part of a domain has at most %(n)s characters"), n=MAX_LABEL))
        if label.startswith("-") or label.endswith("-"):
            raise ValueError(Wording(N_("no part of a domain starts or ends with a hyphen")))
    if labels[-1].isdigit():
        raise ValueError(Wording(N_("the domain is a number, not a name")))
    return name


def in_domains(normalised: str, domains: Sequence[str]) -> bool:
    """Whether a normalised address is in one of the domains: the exact domain, in any case;
    a subdomain only when it is listed itself."""
    own = normalised.rpartition("@")[2].lower()
    return any(own == listed.strip().lower() for listed in domains)
