"""Work addresses: one spelling per mailbox, plain addresses only, and the organisation's domains."""

import pytest

from feedback import addresses


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("sam@example.org", "sam@example.org"),
        ("  Sam@Example.ORG \n", "sam@example.org"),
        ("Sam+x@Example.org", "sam@example.org"),
        ("sam+feedback+more@example.org", "sam@example.org"),
        ("sam.o'neil@mail.example.co.uk", "sam.o'neil@mail.example.co.uk"),
        ("s_m-2@ex-ample.org", "s_m-2@ex-ample.org"),
    ],
)
def test_one_mailbox_has_one_spelling(typed: str, normalised: str) -> None:
    assert addresses.normalise(typed) == normalised


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("sam", "exactly one @"),
        ("sam@team@example.org", "exactly one @"),
        ("@example.org", "before the @"),
        ("+x@example.org", "before the +"),
        ("sam smith@example.org", "no spaces"),
        ("sam\x00@example.org", "no spaces"),
        ("Sam <sam@example.org>", "no spaces"),
        ("<sam@example.org>", "only ASCII letters"),
        ('"sam"@example.org', "only ASCII letters"),
        ("sam(work)@example.org", "only ASCII letters"),
        ("sam,eve@example.org", "only ASCII letters"),
        ("sàm@example.org", "only ASCII letters"),
        (".sam@example.org", "dot"),
        ("sam.@example.org", "dot"),
        ("s..am@example.org", "dot"),
        ("sam@example", "needs a dot"),
        ("sam@example..org", "empty part"),
        ("sam@example.org.", "empty part"),
        ("sam@exa mple.org", "letters, digits, hyphens"),
        ("sam@exa_mple.org", "letters, digits, hyphens"),
        ("sam@[192.0.2.1]", "letters, digits, hyphens"),
        ("sam@192.0.2.1", "a number"),
        ("sam@-example.org", "hyphen"),
        ("sam@" + "a" * 64 + ".org", "at most 63"),
        ("s" * 250 + "@example.org", "at most 254"),
    ],
)
def test_an_address_that_is_not_plain_is_refused_with_the_reason_alone(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        addresses.normalise(typed)
    assert typed.strip() not in str(refused.value) or not typed.strip(), "the message never repeats the address"


def test_the_organisation_domains_match_exactly_in_any_case() -> None:
    domains = ["Example.org", "example.com"]
    assert addresses.in_domains("sam@example.org", domains)
    assert addresses.in_domains("sam@example.com", domains)
    assert not addresses.in_domains("sam@mail.example.org", domains), "no subdomain unless listed"
    assert not addresses.in_domains("sam@example.org.evil.test", domains)
    assert not addresses.in_domains("sam@notexample.org", domains)
    assert addresses.in_domains("sam@mail.example.org", [*domains, "mail.example.org"])


def test_no_domains_take_no_address() -> None:
    assert not addresses.in_domains("sam@example.org", [])
