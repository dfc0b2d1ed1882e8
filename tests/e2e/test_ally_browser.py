"""An ally's whole flow in Chromium: sign up, log an action, ask colleagues by email, copy a
link to share by hand, read the pooled results once five colleagues have answered, and
write a note. Every page passes axe."""

from typing import Any

from tests.conftest import Person, Recipient, inbox, make_due
from tests.e2e.conftest import LiveServer, assert_accessible, screenshot, sign_up


def _check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshot(page, name)


def join(page: Any, server: LiveServer, lead: Person, group_id: int, email: str) -> None:
    """The lead invites the signed-in ally, who accepts from the invitation email."""
    response = lead.post(f"/api/v1/groups/{group_id}/members", {"email": email, "role": "ally"})
    assert response.status_code == 202
    page.goto(f"{server.url}/invitations/{inbox(server.app, email, 'invitations')[-1]}")
    page.get_by_role("button", name="Accept and join").click()
    page.get_by_role("heading", name="My groups").wait_for()


def test_an_ally_logs_asks_by_email_shares_a_link_reads_pooled_results_and_writes_a_note(
    live_server: LiveServer, page: Any
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_up(page, live_server, "Robin", "robin@example.org")
    _check(page, "ally-home-empty")

    lead = Person(live_server.app.test_client(), "Lee")
    group_id = lead.create_group("Women in Engineering")
    join(page, live_server, lead, group_id, "robin@example.org")
    page.get_by_text("Women in Engineering").wait_for()
    _check(page, "ally-home")
    page.get_by_role("link", name="Log an action").click()
    page.get_by_role("heading", name="Log an action").wait_for()
    _check(page, "ally-log-action")
    page.get_by_role("button", name="Save this action").click()  # nothing filled in: errors, not a crash
    page.get_by_role("alert").wait_for()
    assert (
        page.get_by_label("What you did, or are thinking of doing, in one line").get_attribute("aria-invalid") == "true"
    )
    _check(page, "ally-log-action-errors")
    page.get_by_role("radio", name="Credit").check()
    page.get_by_label("What you did, or are thinking of doing, in one line").fill(
        "Credited your design in Tuesday's review"
    )
    page.get_by_role("radio", name="In public (others saw it)").check()
    page.get_by_role("button", name="Save this action").click()

    page.get_by_role("heading", name="Credited your design in Tuesday's review").wait_for()
    action_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    _check(page, "ally-action")
    page.get_by_role("radio", name="Ask whether it helped").check()
    page.get_by_label("Their work email addresses").fill("robin@example.org, sam.example.org")
    page.get_by_role("button", name="Email them the question").click()
    page.get_by_role("alert").wait_for()  # both named under the box, nothing sent
    assert page.get_by_label("Their work email addresses").input_value() == "robin@example.org, sam.example.org"
    assert page.get_by_text("robin@example.org is your own address").is_visible()
    _check(page, "ally-ask-errors")
    colleagues = [f"colleague{n}@example.org" for n in range(1, 6)]
    page.get_by_label("Their work email addresses").fill("\n".join(colleagues))
    page.get_by_role("button", name="Email them the question").click()
    page.get_by_role("status").filter(has_text="Allyloop is emailing 5 colleagues").wait_for()
    assert page.get_by_text("5 emailed").is_visible()
    assert "/r/" not in page.content()  # the ally never holds a delivered link (P8)
    _check(page, "ally-asked-by-email")

    page.get_by_text("For someone without a work address: links you share yourself").click()
    page.get_by_label("How many links (1 to 50)").fill("1")
    page.get_by_role("button", name="Make the links").click()
    page.get_by_role("heading", name="Your links").wait_for()
    _check(page, "ally-links")
    urls = [field.input_value() for field in page.locator("input.link-url").all()]
    assert len(urls) == 1 and "/r/" in urls[0]
    page.get_by_role("button", name="Copy link 1").click()
    page.get_by_role("status").filter(has_text="Link 1 copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == urls[0]
    page.get_by_role("button", name="Copy the message").click()
    page.get_by_role("status").filter(has_text="Message copied.").wait_for()
    assert "answer anonymously, or not at all" in page.evaluate("navigator.clipboard.readText()").lower()

    page.get_by_role("link", name="Done").click()
    page.get_by_role("heading", name="Asked so far").wait_for()
    assert "/r/" not in page.content()  # shown once, never again
    assert page.get_by_text("1 link you shared (these answers do not count toward results)").is_visible()
    page.get_by_role("link", name="Back to my groups and actions").click()
    page.get_by_role("link", name="Credited your design in Tuesday's review").wait_for()
    _check(page, "ally-home-with-action")
    page.get_by_role("link", name="My pooled results").click()
    page.get_by_text("Nothing released yet.").wait_for()
    row = page.locator("table.progress tr", has_text="Right after acting")
    assert row.locator("td").last.inner_text() == "0", "asked, none released yet"
    _check(page, "ally-results-waiting")

    recipient = Recipient(live_server.app.test_client())
    answers = {"wanted": "yes", "felt_recognised": 5, "changed_treatment": 1, "prefer_next": "connect_me"}
    for i, to in enumerate(colleagues):  # each colleague answers the link in their own email
        (token,) = inbox(live_server.app, to)
        comment = {"text": "It helped. An introduction would help more.", "audience": "ally"} if i == 2 else None
        assert recipient.answer(token, answers, comment).status_code == 202

    page.reload()
    page.get_by_text("It helped. An introduction would help more.").wait_for()
    row = page.locator("table.progress tr", has_text="Right after acting")
    assert row.locator("td").last.inner_text() == "5", "the five answers released"
    assert page.get_by_text("It helped. An introduction would help more.").is_visible()
    assert page.get_by_text("People felt recognised, but few said it changed how they are treated").is_visible()
    _check(page, "ally-results")

    page.get_by_role("link", name="Write a note").click()
    page.get_by_label("Your note").fill("Introduce Sam to the architecture guild.")
    page.get_by_role("button", name="Save my note").click()
    page.get_by_role("status").filter(has_text="Your note is saved.").wait_for()
    _check(page, "ally-note")
    page.get_by_role("link", name="See my pooled results").click()
    assert page.get_by_text("Introduce Sam to the architecture guild.").is_visible()

    make_due(live_server.app, action_id, "followup_30")  # a month goes by
    page.get_by_role("link", name="My groups").click()
    page.get_by_text("Your 30-day follow-up on").wait_for()
    _check(page, "ally-home-followup-due")
    page.get_by_role("link", name="Ask now").click()
    assert page.get_by_role("radio", name="Follow up after 30 days").is_checked()
    _check(page, "ally-action-followup-due")


def test_without_javascript_asking_by_email_works_and_shared_links_are_plain_selectable_text(
    live_server: LiveServer, page_without_js: Any
) -> None:
    page = page_without_js
    sign_up(page, live_server, "Noor", "noor@example.org")
    lead = Person(live_server.app.test_client(), "Lee")
    group_id = lead.create_group()
    join(page, live_server, lead, group_id, "noor@example.org")
    page.goto(live_server.url + "/ally/actions/new")
    page.get_by_role("radio", name="Change a process").check()
    page.get_by_label("What you did, or are thinking of doing, in one line").fill("Changed the on-call rota")
    page.get_by_role("radio", name="In private (one to one)").check()
    page.get_by_role("button", name="Save this action").click()
    page.get_by_role("radio", name="Ask for advice").check()
    page.get_by_label("Their work email addresses").fill("kim@example.org sam@example.org")
    page.get_by_role("button", name="Email them the question").click()
    page.get_by_text("Allyloop is emailing 2 colleagues").wait_for()
    assert "/r/" not in page.content()
    screenshot(page, "ally-asked-by-email-no-js")
    page.get_by_text("For someone without a work address: links you share yourself").click()
    page.get_by_label("How many links (1 to 50)").fill("2")
    page.get_by_role("button", name="Make the links").click()
    page.get_by_role("heading", name="Your links").wait_for()
    assert page.get_by_role("button", name="Copy link 1").count() == 0  # no dead buttons without JS
    assert page.get_by_label("Link 1", exact=True).is_visible()
    assert "/r/" in page.get_by_label("Link 1", exact=True).input_value()
    # axe needs JavaScript in the page; the same page with JavaScript is checked in the test above.
    screenshot(page, "ally-links-no-js")


def test_an_ally_asks_advice_before_acting_then_marks_it_done(live_server: LiveServer, page: Any) -> None:
    sign_up(page, live_server, "Robin", "robin@example.org")
    lead = Person(live_server.app.test_client(), "Lee")
    group_id = lead.create_group("Women in Engineering")
    join(page, live_server, lead, group_id, "robin@example.org")
    page.get_by_role("link", name="Log an action").click()
    page.get_by_role("radio", name="Not yet: I am thinking of doing this").check()
    page.get_by_role("radio", name="Introduce").check()
    page.get_by_label("What you did, or are thinking of doing, in one line").fill("Introduce Sam to the platform team")
    page.get_by_label("When it happened").fill("")
    page.get_by_role("radio", name="In private (one to one)").check()
    _check(page, "ally-plan-action")
    page.get_by_role("button", name="Save this action").click()
    page.get_by_role("heading", name="Introduce Sam to the platform team").wait_for()
    assert page.get_by_text("Not yet: you are thinking of doing this").is_visible()
    assert page.get_by_role("radio", name="Ask whether it helped").count() == 0
    _check(page, "ally-planned-action")
    page.get_by_role("radio", name="Ask for advice").check()
    page.get_by_label("Their work email addresses").fill("sam@example.org")
    page.get_by_role("button", name="Email them the question").click()
    page.get_by_role("status").filter(has_text="Allyloop is emailing 1 colleague").wait_for()
    page.get_by_role("button", name="Mark it done").click()
    page.get_by_role("radio", name="Ask whether it helped").wait_for()
    _check(page, "ally-action-marked-done")

    recipient = Recipient(live_server.app.test_client())
    advice = inbox(live_server.app, "sam@example.org")[-1]
    assert recipient.client.get(f"/r/{advice}").status_code == 200
    page.goto(f"{live_server.url}/r/{advice}")
    assert page.get_by_text("is thinking of doing this, and would like your view before they act").is_visible()
    assert_accessible(page)
    screenshot(page, "recipient-advice")
