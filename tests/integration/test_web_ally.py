"""The ally's pages through the Flask test client: signed in with a cookie, every POST with
its CSRF token, colleagues asked by email without the ally ever seeing a link, shared links
shown once, no per-link status, a note only its author reads."""

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.clock import utcnow
from api.extensions import db
from api.jobs.adapters import delivery_keys, mailer
from feedback import delivery, kinds, stages
from feedback.mail import Mail, Refused
from feedback.models import Account, AllyNote, Followup, Link
from feedback.services import actions
from tests.conftest import Person, Recipient, build_app, inbox, make_due, outbox

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_IN_URL = re.compile(r"/r/([A-Za-z0-9_-]{16,})")
TODAY = date.today().isoformat()
_colleagues = itertools.count(1)


def colleagues(count: int) -> list[str]:
    return [f"colleague{next(_colleagues)}@example.org" for _ in range(count)]


class WebAlly:
    """Someone using the ally pages in a browser: a cookie session and the page's CSRF token."""

    def __init__(self, app: Flask, name: str = "Robin") -> None:
        self.app = app
        self.client = app.test_client()
        self.email = f"{name.lower()}-web@example.org"
        page = self.client.get("/sign-up")
        form = {"name": name, "email": self.email, "password": "a long enough password", "csrf_token": _csrf(page)}
        signed_up = self.client.post("/sign-up", data=form)
        assert signed_up.status_code == 302, signed_up.text
        link = f"/verify/{inbox(app, self.email, 'verify')[-1]}"  # from the email, as they would
        confirmed = self.client.post(link, data={"csrf_token": _csrf(self.client.get(link))})
        assert confirmed.status_code == 302, confirmed.text
        self.csrf = _csrf(self.client.get("/ally/"))

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data={"csrf_token": self.csrf, **data})

    def log_action(self, group_id: int, kind: str = "credit", summary: str = "Credited Sam's design") -> int:
        form = {"group_id": group_id, "kind": kind, "summary": summary, "occurred_on": TODAY, "visibility": "public"}
        response = self.post("/ally/actions/new", form)
        assert response.status_code == 302, response.text
        return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    def ask(self, action_id: int, stage: str = "immediate", count: int = 5) -> tuple[Any, list[str]]:
        """Ask ``count`` new colleagues by email on the action's page; returns the page the
        browser lands on and the tokens each colleague finds in their email."""
        return self.ask_by_email(action_id, colleagues(count), stage)

    def ask_by_email(self, action_id: int, addresses: list[str], stage: str = "immediate") -> tuple[Any, list[str]]:
        response = self.post(
            f"/ally/actions/{action_id}/requests", {"stage": stage, "recipients": "\n".join(addresses)}
        )
        assert response.status_code == 302, response.text
        assert response.headers["Location"].endswith(f"/ally/actions/{action_id}#asked")
        landed = self.get(response.headers["Location"])
        assert landed.status_code == 200
        return landed, [token for address in addresses for token in inbox(self.app, address)]

    def share_links(self, action_id: int, stage: str = "immediate", count: int = 5) -> tuple[Any, list[str]]:
        """Links the ally shares themselves: shown once, in the answer to this POST."""
        response = self.post(f"/ally/actions/{action_id}/links", {"stage": stage, "count": count})
        assert response.status_code == 200, response.text
        return response, sorted(set(TOKEN_IN_URL.findall(response.text)))


def answer_links_sent(app: Flask) -> list[Any]:
    """Emails that asked someone for feedback (signing up and joining a group send others)."""
    return [message for message in outbox(app) if "/r/" in message.get_content()]


def _csrf(page: Any) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def robin(app: Flask) -> WebAlly:
    return WebAlly(app)


def group_with(app: Flask, ally: WebAlly) -> int:
    """A group a lead made through the API, with this ally in it."""
    lead = Person(app.test_client(), "Lee")
    group = lead.create_group("Women in Engineering")
    response = lead.post(f"/api/v1/groups/{group}/members", {"email": ally.email, "role": "ally"})
    assert response.status_code == 202
    invitation = inbox(app, ally.email, "invitations")[-1]  # the ally accepts it on the invitation page
    assert ally.post(f"/invitations/{invitation}", {}).status_code == 302
    return group


@pytest.fixture
def group_id(app: Flask, robin: WebAlly) -> int:
    return group_with(app, robin)


def test_forms_work_over_https_where_browsers_send_no_referrer(app: Flask) -> None:
    browser = app.test_client()
    https = {"base_url": "https://allyloop.test"}
    page = browser.get("/sign-up", **https)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    form = {"name": "Ria", "email": "ria@example.org", "password": "a long enough password", "csrf_token": _csrf(page)}
    assert browser.post("/sign-up", data=form, **https).status_code == 302
    forged = browser.post("/ally/note", data={"text": "forged note", "csrf_token": "forged"}, **https)
    assert forged.status_code == 400, "the token is still checked"
    assert "forged note" not in browser.get("/ally/note", **https).text


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ("/ally/", "/ally/actions/new", "/ally/actions/1", "/ally/results", "/ally/note"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/sign-in")


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_saved(robin: WebAlly, group_id: int) -> None:
    form = {"group_id": group_id, "kind": "credit", "summary": "Sneaky", "occurred_on": TODAY, "visibility": "public"}
    refused = robin.client.post("/ally/actions/new", data=form)
    assert refused.status_code == 400
    assert "Sneaky" not in robin.get("/ally/").text
    assert robin.client.post("/ally/note", data={"text": "forged"}).status_code == 400
    assert "forged" not in robin.get("/ally/note").text


def test_the_home_page_lists_groups_and_actions_and_offers_to_log_one(robin: WebAlly, group_id: int) -> None:
    robin.log_action(group_id, summary="Introduced Kim to the platform team", kind="connect")
    page = robin.get("/ally/").text
    assert "Women in Engineering" in page
    assert "Introduced Kim to the platform team" in page
    assert 'href="/ally/actions/new"' in page


def test_the_kind_picker_explains_signaling_and_mitigation_and_offers_every_kind(robin: WebAlly, group_id: int) -> None:
    page = robin.get("/ally/actions/new").text
    assert "Signaling: helps them feel valued, seen and safe" in page
    assert "Mitigation: removes a barrier" in page
    for kind in kinds.KINDS:
        assert f'value="{kind}"' in page
    assert f'<option value="{group_id}"' in page


def test_bad_action_input_shows_the_form_again_with_each_error_next_to_its_field(robin: WebAlly, group_id: int) -> None:
    tomorrow_but_one = (date.today() + timedelta(days=3)).isoformat()
    good = {"group_id": group_id, "kind": "credit", "summary": "x", "occurred_on": TODAY, "visibility": "public"}
    cases = [
        ({"group_id": "abc"}, "group_id"),
        ({"kind": "bake"}, "kind"),
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 201}, "summary"),
        ({"summary": "a\x00b"}, "summary"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"occurred_on": tomorrow_but_one}, "occurred_on"),
        ({"visibility": None}, "visibility"),
    ]
    for change, field in cases:
        form = {name: value for name, value in {**good, **change}.items() if value is not None}
        response = robin.post("/ally/actions/new", form)
        assert response.status_code == 400, (form, response.status_code)
        assert 'role="alert"' in response.text  # the summary
        assert f'id="{field}-error"' in response.text, field  # and the message by the field
        assert 'name="csrf_token"' in response.text
    assert "Nothing logged yet" in robin.get("/ally/").text


def test_a_group_the_ally_is_not_in_is_refused_at_its_field(app: Flask, robin: WebAlly, group_id: int) -> None:
    other = Person(app.test_client(), "Other").create_group("Not yours")
    form = {"group_id": other, "kind": "credit", "summary": "x", "occurred_on": TODAY, "visibility": "public"}
    response = robin.post("/ally/actions/new", form)
    assert response.status_code == 400
    assert 'id="group_id-error"' in response.text
    assert "Not yours" not in response.text


def test_another_allys_action_is_not_found(app: Flask, robin: WebAlly, group_id: int) -> None:
    lead = Person(app.test_client(), "Lee")
    theirs = lead.log_action(lead.create_group())
    assert robin.get(f"/ally/actions/{theirs}").status_code == 404
    refused = robin.post(f"/ally/actions/{theirs}/links", {"stage": "immediate", "count": 3})
    assert refused.status_code == 404
    assert not TOKEN_IN_URL.search(refused.text)
    emailed = robin.post(f"/ally/actions/{theirs}/requests", {"stage": "immediate", "recipients": "kim@example.org"})
    assert emailed.status_code == 404
    assert answer_links_sent(app) == []
    assert robin.get("/ally/actions/99999999999").status_code == 404


def test_shared_links_are_shown_once_with_a_message_to_paste_and_never_again(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    response, tokens = robin.share_links(action_id, count=4)
    assert len(tokens) == 4
    assert "answer anonymously, or not at all" in response.text.lower()
    assert "never count toward results on their own" in response.text
    assert "shown only this once" in response.text
    assert 'src="/static/copy.js"' in response.text
    for url in ("/ally/", f"/ally/actions/{action_id}", "/ally/results", "/ally/note"):
        page = robin.get(url).text
        assert not any(token in page for token in tokens), url
    assert robin.get(f"/ally/actions/{action_id}/links").headers["Location"].endswith(f"/ally/actions/{action_id}")
    with app.app_context():
        stored = [repr(row.__dict__) for row in db.session.scalars(select(Link))]
    assert len(stored) == 4 and not any(token in row for row in stored for token in tokens)
    _, again = robin.share_links(action_id, count=4)
    assert not set(again) & set(tokens)  # asking again makes new links; the old ones are not shown
    page = robin.get(f"/ally/actions/{action_id}").text
    assert page.count("4 links you shared (these answers do not count toward results)") == 2


def test_a_bad_request_for_shared_links_shows_the_action_page_again_without_links(
    robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    for form, field in (
        ({"stage": "immediate", "count": 0}, "count"),
        ({"stage": "immediate", "count": 51}, "count"),
        ({"stage": "immediate", "count": "lots"}, "count"),
        ({"stage": "someday", "count": 3}, "stage"),
        ({"count": 3}, "stage"),
    ):
        response = robin.post(f"/ally/actions/{action_id}/links", form)
        assert response.status_code == 400, form
        assert f'id="{field}-error"' in response.text
        assert '<details id="share" class="share" open>' in response.text  # the form that needs a look
        assert not TOKEN_IN_URL.search(response.text)


def test_every_stage_can_be_asked_for_once_it_is_due(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    for stage in stages.IDS:
        if stage.startswith("followup"):
            make_due(app, action_id, stage)
        _, tokens = robin.ask(action_id, stage=stage, count=1)
        assert len(tokens) == 1


def test_a_follow_up_asked_for_too_early_is_refused_with_its_due_day(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    robin.ask(action_id, stage="immediate", count=1)
    sent = len(outbox(app))
    page = robin.post(f"/ally/actions/{action_id}/requests", {"stage": "followup_30", "recipients": "kim@example.org"})
    assert page.status_code == 409
    assert "/r/" not in page.text and "this follow-up is due on" in page.text
    assert "kim@example.org" in page.text  # kept in the box, to ask again on the due day
    shared = robin.post(f"/ally/actions/{action_id}/links", {"stage": "followup_30", "count": "3"})
    assert shared.status_code == 409
    assert "/r/" not in shared.text and "this follow-up is due on" in shared.text
    assert len(outbox(app)) == sent


def progress_row(page: str, stage: str) -> list[str]:
    """The ally's requests, people asked and answers released for one questionnaire."""
    found = re.search(rf'<th scope="row">{re.escape(stage)}</th>(.*?)</tr>', page, re.S)
    assert found, stage
    return re.findall(r"<td>([^<]*)</td>", found.group(1))


def test_answering_a_link_changes_nothing_the_ally_can_see_until_a_cohort_releases(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    _, tokens = robin.ask(action_id, count=5)
    pages = ("/ally/", f"/ally/actions/{action_id}", "/ally/results")
    # The CSRF field is signed with a timestamp; everything else must stay the same.
    before = [CSRF.sub("", robin.get(url).text) for url in pages]
    recipient = Recipient(app.test_client())
    for token in tokens[:4]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    for url, page in zip(pages, before, strict=True):
        assert CSRF.sub("", robin.get(url).text) == page, url  # no per-link status (P5)
    assert "Nothing released yet." in before[2]
    assert "at least 5 people you asked through Allyloop have answered it" in before[2]
    assert "at the next release run (every 10 minutes)" in before[2]
    assert progress_row(before[2], "Right after acting") == ["1", "5", "0"], "requests, people asked, released"


def test_pooled_results_read_in_plain_words_with_comments_and_a_nudge(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    _, tokens = robin.ask(action_id, count=5)
    recipient = Recipient(app.test_client())
    answers = {"wanted": "yes", "felt_recognised": 5, "changed_treatment": 1, "prefer_next": "fix_process"}
    for i, token in enumerate(tokens):
        comment = {"text": "Thank you, next time fix the rota", "audience": "ally"} if i == 0 else None
        assert recipient.answer(token, answers, comment).status_code == 202
    page = robin.get("/ally/results").text
    assert progress_row(page, "Right after acting") == ["1", "5", "5"]
    assert "5 of 5 who said whether they wanted the help said yes" in page
    assert "Fix the process" in page
    assert "Thank you, next time fix the rota" in page
    assert "People felt recognised, but few said it changed how they are treated" in page
    assert "Nothing released yet." not in page


def test_mostly_affirmation_is_named_with_a_prompt_toward_mitigation(robin: WebAlly, group_id: int) -> None:
    for kind in ("credit", "amplify", "credit"):
        robin.log_action(group_id, kind=kind)
    assert "Mostly affirmation so far" in robin.get("/ally/results").text
    robin.log_action(group_id, kind="change_process")
    robin.log_action(group_id, kind="sponsor")
    assert "Mostly affirmation so far" not in robin.get("/ally/results").text


def test_a_note_is_saved_encrypted_and_only_its_author_reads_it(app: Flask, robin: WebAlly) -> None:
    saved = robin.post("/ally/note", {"text": "Ask Sam first; introduce Kim to the infra lead"})
    assert saved.status_code == 302
    page = robin.get(saved.headers["Location"]).text
    assert "Your note is saved." in page
    assert "Ask Sam first; introduce Kim to the infra lead" in page
    assert "Ask Sam first" in robin.get("/ally/results").text
    other = WebAlly(app, "Kai")
    assert "Ask Sam first" not in other.get("/ally/note").text
    assert "Ask Sam first" not in other.get("/ally/results").text
    with app.app_context():
        blobs = db.session.scalars(select(AllyNote.ciphertext)).all()
    assert len(blobs) == 1 and b"Ask Sam" not in blobs[0]


def test_a_note_too_long_is_refused_next_to_the_field_and_an_empty_one_deletes(app: Flask, robin: WebAlly) -> None:
    too_long = robin.post("/ally/note", {"text": "x" * 2001})
    assert too_long.status_code == 400
    assert 'id="text-error"' in too_long.text and 'role="alert"' in too_long.text
    robin.post("/ally/note", {"text": "keep going"})
    robin.post("/ally/note", {"text": "   "})
    assert "keep going" not in robin.get("/ally/note").text
    with app.app_context():
        assert db.session.scalars(select(AllyNote)).all() == []


def test_the_pages_stylesheets_and_copy_script_are_served(client: FlaskClient) -> None:
    for url, kind in (
        ("/static/style.css", "text/css"),
        ("/static/ally.css", "text/css"),
        ("/static/copy.js", "javascript"),
    ):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert kind in response.headers["Content-Type"]


def test_a_due_follow_up_shows_on_home_with_a_link_to_ask_and_goes_once_asked(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id, summary="Introduced Kim to the platform team", kind="connect")
    robin.ask(action_id, stage="immediate", count=1)
    assert "follow-up on" not in robin.get("/ally/").text  # not due yet
    make_due(app, action_id, "followup_30", on=date(2026, 1, 5))
    home = robin.get("/ally/").text
    assert "Your 30-day follow-up on “Introduced Kim to the platform team” is due since Jan 5, 2026." in home, (
        "a date as the reader's language writes it"
    )
    link = f'href="/ally/actions/{action_id}?stage=followup_30#ask"'
    assert link in home
    page = robin.get(f"/ally/actions/{action_id}?stage=followup_30").text
    assert 'value="followup_30" aria-describedby="stage-followup_30-hint" checked' in page
    _, tokens = robin.ask(action_id, stage="followup_30", count=2)
    assert len(tokens) == 2
    assert "follow-up on" not in robin.get("/ally/").text and link not in robin.get("/ally/").text


def test_follow_ups_are_offered_on_their_due_day_and_not_before(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    before_immediate = robin.get(f"/ally/actions/{action_id}").text
    assert 'value="followup_30"' not in before_immediate and 'value="followup_90"' not in before_immediate
    assert "Comes due a while after you ask whether it helped." in before_immediate
    robin.ask(action_id, stage="immediate", count=1)
    page = robin.get(f"/ally/actions/{action_id}?stage=followup_30").text
    assert 'value="followup_30"' not in page and 'value="followup_90"' not in page
    due = date.today() + timedelta(days=30)
    assert f"Due on {due:%B} {due.day}, {due.year}: you can ask from that day." in page
    assert 'value="immediate" aria-describedby="stage-immediate-hint" checked' in page  # not the closed stage
    assert 'value="advice"' in page
    make_due(app, action_id, "followup_30")
    page = robin.get(f"/ally/actions/{action_id}").text
    assert 'value="followup_30"' in page and 'value="followup_90"' not in page


def test_results_say_whether_it_lasted_once_a_follow_up_cohort_releases(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    _, now_tokens = robin.ask(action_id, stage="immediate", count=5)
    recipient = Recipient(app.test_client())
    for token in now_tokens:
        assert recipient.answer(token, {"wanted": "yes", "felt_recognised": 4}).status_code == 202
    page = robin.get("/ally/results").text
    assert "Did it last?" in page and "Not known yet." in page
    assert page.count("not enough answers yet") == 2  # 30 and 90 days
    make_due(app, action_id, "followup_30")
    _, later_tokens = robin.ask(action_id, stage="followup_30", count=5)
    lasted = {"lasting_difference": 4, "recurred": "less", "ally_checked_back": "yes"}
    for token in later_tokens:
        assert recipient.answer(token, lasted).status_code == 202
    page = robin.get("/ally/results").text
    assert "It lasted: people said it still made a real difference weeks later." in page
    assert "100% wanted the help." in page and "Felt valued: 4.0 out of 5." in page
    assert "Lasting difference: 4.0 out of 5." in page and "The problem came up less for 100%." in page
    assert page.count("not enough answers yet") == 1  # 90 days
    assert 'href="/ally/results"' in page  # the "My results" nav item


def test_a_follow_up_cell_too_small_to_show_says_so_in_words(app: Flask, robin: WebAlly, group_id: int) -> None:
    """Five follow-up answers release together, but 4 at 30 days and 1 at 90 are each fewer than k."""
    action_id = robin.log_action(group_id)
    robin.ask(action_id, stage="immediate", count=1)
    make_due(app, action_id, "followup_30")
    make_due(app, action_id, "followup_90")
    _, at_30 = robin.ask(action_id, stage="followup_30", count=4)
    _, at_90 = robin.ask(action_id, stage="followup_90", count=1)
    recipient = Recipient(app.test_client())
    for token in at_30 + at_90:
        assert recipient.answer(token, {"lasting_difference": 2}).status_code == 202
    page = robin.get("/ally/results").text
    assert progress_row(page, "Follow-ups, 30 and 90 days later") == ["2", "5", "5"]
    assert progress_row(page, "Right after acting") == ["1", "1", "0"], "advice, right after and later count apart"
    assert page.count("hidden by the release rules: fewer than 5 people") == 2
    assert "Lasting difference:" not in page and "Not known yet." in page


def test_follow_ups_asked_for_on_the_page_come_due_at_the_configured_days(tmp_path: Path) -> None:
    app = build_app(tmp_path, followup_days=(7, 21))
    try:
        robin = WebAlly(app)
        action = robin.log_action(group_with(app, robin))
        robin.ask(action, "immediate")
        with app.app_context():
            due = {f.stage: f.due_on for f in db.session.scalars(select(Followup).filter_by(action_id=action))}
        today = utcnow().date()
        assert due == {"followup_30": today + timedelta(days=7), "followup_90": today + timedelta(days=21)}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_asking_by_email_confirms_how_many_were_emailed_and_no_page_shows_a_link(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    addresses = ["sam@example.org", "kim@example.org", "Dana Lee <dana@example.org>"]
    response = robin.post(
        f"/ally/actions/{action_id}/requests", {"stage": "immediate", "recipients": "\n".join(addresses)}
    )
    assert response.status_code == 302 and "/r/" not in response.text
    landed = robin.get(response.headers["Location"]).text
    assert "Allyloop is emailing 3 colleagues a link of their own." in landed
    assert "3 emailed" in landed
    tokens = [token for to in ("sam@example.org", "kim@example.org", "dana@example.org") for token in inbox(app, to)]
    assert len(tokens) == 3
    for url in ("/ally/", f"/ally/actions/{action_id}", "/ally/results", "/ally/note"):
        page = robin.get(url).text
        assert "/r/" not in page and not any(token in page for token in tokens), url
    pages = [landed, robin.get(f"/ally/actions/{action_id}").text]
    assert not any("/r/" in page or any(token in page for token in tokens) for page in pages)
    assert "Allyloop is emailing" not in pages[1], "the confirmation shows once"


def test_each_address_that_cannot_be_asked_is_named_and_the_typed_text_kept(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org",))
    try:
        robin = WebAlly(app)
        action_id = robin.log_action(group_with(app, robin))
        typed = f"sam@example.org, sam.example.org\nkim@gmail.com; {robin.email}\nSam+review@example.org"
        page = robin.post(f"/ally/actions/{action_id}/requests", {"stage": "immediate", "recipients": typed})
        assert page.status_code == 400
        assert "4 addresses cannot be asked, so nobody was emailed." in page.text
        problems = page.text.split('id="recipients-error"', 1)[1].split("</div>", 1)[0]
        assert "“sam.example.org” is not an email address" in problems
        assert "kim@gmail.com is not an address of the organisation (example.org)" in problems
        assert f"{robin.email} is your own address" in problems
        assert "Sam+review@example.org is the same person as sam@example.org" in problems
        assert f">{typed}</textarea>" in page.text
        assert 'aria-invalid="true"' in page.text and 'role="alert"' in page.text
        assert answer_links_sent(app) == [] and "Asked so far" not in robin.get(f"/ally/actions/{action_id}").text
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_asking_nobody_or_no_stage_by_email_is_refused_at_its_field(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    for form, field, message in (
        ({"stage": "immediate", "recipients": " ,\n; "}, "recipients", "from 1 to 50 addresses"),
        ({"stage": "immediate", "recipients": "\n".join(colleagues(51))}, "recipients", "from 1 to 50 addresses"),
        ({"recipients": "sam@example.org"}, "stage", "Choose what to ask for."),
        ({"stage": "someday", "recipients": "sam@example.org"}, "stage", "Choose what to ask for."),
    ):
        page = robin.post(f"/ally/actions/{action_id}/requests", form)
        assert page.status_code == 400, form
        assert f'id="{field}-error"' in page.text and message in page.text, form
    assert answer_links_sent(app) == []


def _queue_emails(app: Flask, ally: WebAlly, action_id: int, addresses: list[str]) -> None:
    """A delivered request whose emails wait for a sender (the page's own would send them at once)."""
    with app.app_context():
        account = db.session.scalars(select(Account).filter_by(email=ally.email)).one()
        config = app.config["ALLYLOOP"]
        actions.deliver_request(
            db.session(),
            account,
            action_id,
            stage="immediate",
            recipients=addresses,
            now=utcnow(),
            link_days=config.link_days,
            followup_days=config.followup_days,
            domains=(),
            keys=delivery_keys(),
        )
        db.session.commit()


def _send_refusing(app: Flask, address: str, *, days_later: int = 0) -> None:
    """Send what waits, as the worker would, through a mail server that refuses ``address`` for good."""

    def send(mail: Mail) -> None:
        if mail.to == address:
            raise Refused("550")

    with app.app_context():
        now = utcnow() + timedelta(days=days_later)
        delivery.send_due(db.session(), replace(mailer(app), send=send), now=now)


def test_an_address_the_mail_server_refused_is_shown_once_then_forgotten(
    app: Flask, robin: WebAlly, group_id: int
) -> None:
    action_id = robin.log_action(group_id)
    _queue_emails(app, robin, action_id, ["sam@example.org", "nobody-here@example.org"])
    _send_refusing(app, "nobody-here@example.org")
    page = robin.get(f"/ally/actions/{action_id}").text
    assert "The mail server refused: nobody-here@example.org — check the address and ask again." in page
    assert "1 emailed" in page
    again = robin.get(f"/ally/actions/{action_id}").text
    assert "nobody-here@example.org" not in again and "1 emailed" in again


def test_an_email_not_sent_before_its_link_expired_is_named_once(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    _queue_emails(app, robin, action_id, ["sam@example.org"])
    _send_refusing(app, "", days_later=app.config["ALLYLOOP"].link_days + 1)  # the server was away till then
    page = robin.get(f"/ally/actions/{action_id}").text
    assert "Could not be sent before the link expired: sam@example.org" in page and "0 emailed" in page
    assert "sam@example.org" not in robin.get(f"/ally/actions/{action_id}").text


def test_answers_to_shared_links_alone_never_bring_results(app: Flask, robin: WebAlly, group_id: int) -> None:
    action_id = robin.log_action(group_id)
    page, tokens = robin.share_links(action_id, count=5)
    assert "never count toward results on their own" in page.text
    recipient = Recipient(app.test_client())
    for token in tokens:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    results = robin.get("/ally/results").text
    assert "Nothing released yet." in results and "never make up the 5" in results
    assert progress_row(results, "Right after acting") == ["1", "0", "0"], "shared links ask no one by email"


def test_home_and_results_say_when_results_come(robin: WebAlly, group_id: int) -> None:
    when = "at least 5 people you asked through Allyloop have answered it"
    assert when in robin.get("/ally/").text
    assert when in robin.get("/ally/results").text


def test_follow_ups_are_named_with_the_days_the_app_is_set_to(make_app: Callable[..., Flask]) -> None:
    app = make_app(followup_days=(14, 60))
    robin = WebAlly(app)
    action_id = robin.log_action(group_with(app, robin))
    robin.ask(action_id, count=1)
    make_due(app, action_id, "followup_30")
    page = robin.get(f"/ally/actions/{action_id}").text
    assert "Follow up after 14 days" in page and "About 14 days later" in page
    assert "About 30 days later" not in page and "after a month" not in page
