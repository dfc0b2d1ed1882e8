"""The ERG lead's pages through the Flask test client: groups, invitations and members, insights,
CSV; and the invitation page where an invitee accepts."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from api.clock import utcnow
from api.extensions import db
from api.jobs.release import run_due_now
from feedback import questionnaires
from feedback.models import Account, Followup, Group, Invitation
from tests.conftest import Person, Recipient, build_app, inbox, make_due, release_at_once
from tests.integration.load_scenario import Scenario, build_scenario, months_ago, page_month

ANSWERS = [
    {"wanted": "yes", "felt_recognised": 4, "changed_treatment": 2, "downsides": ["none"], "prefer_next": "make_room"},
    {"wanted": "partly", "felt_recognised": 5, "changed_treatment": "na", "downsides": ["spoken_for"]},
    {"wanted": "yes", "seen_capable": 3, "gave_access": 4, "recognition": "private"},
    {},
]


def fill_group(client: FlaskClient, lead: Person, group_id: int) -> list[Person]:
    """Six allies and 27 answers: group releases in which 'credit' (three allies) shows and
    the kinds that only one ally used stay suppressed."""
    release_at_once(client.application)
    recipient = Recipient(client)
    allies = [Person(client, name) for name in ("Ana", "Ben", "Cy", "Dee", "Eli", "Fay")]
    plan = [("credit", "public", 5)] * 3 + [
        ("sponsor", "private", 4),
        ("mentor", "public", 4),
        ("connect", "public", 4),
    ]
    for person in allies:
        lead.add(group_id, person)
    n = 0
    for person, (kind, visibility, count) in zip(allies, plan, strict=True):
        for token in person.ask(person.log_action(group_id, kind=kind, visibility=visibility), count=count):
            comment = {"text": f'=HYPERLINK("x") note {n}', "audience": "lead"} if n % 9 == 0 else None
            assert recipient.answer(token, ANSWERS[n % len(ANSWERS)], comment).status_code == 202
            n += 1
    return allies


def csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def browser_for(app: Flask, person: Person) -> FlaskClient:
    """A second client with a cookie session, signed in as the person through the web form."""
    web = app.test_client()
    token = csrf(web, "/sign-in")
    signed = web.post("/sign-in", data={"csrf_token": token, "email": person.email, "password": person.password})
    assert signed.status_code == 302
    return web


def post(web: FlaskClient, url: str, data: dict[str, str], form_page: str) -> Any:
    return web.post(url, data={"csrf_token": csrf(web, form_page), **data})


def test_a_lead_creates_a_group_and_lands_on_its_members_page(app: Flask, lead: Person) -> None:
    web = browser_for(app, lead)
    created = post(web, "/groups/", {"name": "Black Engineers Network"}, "/groups/")
    assert created.status_code == 302 and re.search(r"/groups/\d+/members$", created.headers["Location"])
    listing = web.get("/groups/").get_data(as_text=True)
    assert "Black Engineers Network" in listing
    members = web.get(created.headers["Location"]).get_data(as_text=True)
    assert lead.email in members and "The only lead" in members


def test_a_group_without_a_name_is_refused_with_the_form_again(app: Flask, lead: Person) -> None:
    web = browser_for(app, lead)
    refused = post(web, "/groups/", {"name": "   "}, "/groups/")
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    too_long = post(web, "/groups/", {"name": "x" * 500}, "/groups/")
    assert too_long.status_code == 400


def test_a_newcomers_home_offers_to_create_a_group_and_says_how_to_join_one(app: Flask, lead: Person) -> None:
    web = browser_for(app, lead)
    home = web.get("/").text
    assert "You are not in a group yet" in home and "ask one of its ERG leads to invite you" in home
    created = post(web, "/groups/", {"name": "Black Engineers Network"}, "/")
    assert created.status_code == 302
    assert web.get("/").headers["Location"] == "/ally/", "someone in a group goes to their groups"


def invite(web: FlaskClient, group: int, emails: str, role: str = "ally") -> Any:
    page = f"/groups/{group}/members"
    return post(web, page, {"emails": emails, "role": role}, page)


def test_a_lead_invites_a_pasted_list_and_sees_it_pending(app: Flask, lead: Person, client: Any) -> None:
    has_account = Person(client, "Kim")
    group = lead.create_group()
    web = browser_for(app, lead)
    pasted = f"{has_account.email}, new.one@example.org\nSam Lee <sam@example.org>"
    invited = invite(web, group, pasted)
    assert invited.status_code == 302
    page = web.get(invited.headers["Location"]).text
    assert "Invited 3 people." in page, "the same words whoever has an account"
    pending = page[page.index('id="pending"') : page.index('id="members"')]
    for email in (has_account.email, "new.one@example.org", "sam@example.org"):
        assert email in pending
    expires = (utcnow() + timedelta(days=14)).date()
    assert pending.count(f"expires on {expires:%B} {expires.day}, {expires.year}") == 3
    assert pending.count(">Withdraw<") == 3
    assert has_account.get("/api/v1/groups").get_json() == [], "nobody joins before accepting"


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(
    app: Flask, lead: Person, client: Any
) -> None:
    has_account = Person(client, "Kim")
    group = lead.create_group()
    web = browser_for(app, lead)
    pages = []
    for email in (has_account.email, "nobody@example.org"):
        invited = invite(web, group, email)
        landed = web.get(invited.headers["Location"]).text
        said = landed[landed.index('role="status"') : landed.index("</p>", landed.index('role="status"'))]
        pages.append((invited.status_code, invited.headers["Location"], said))
    assert pages[0] == pages[1] and "Invited 1 person." in pages[0][2]


def test_a_wrong_role_or_no_address_is_a_400_in_plain_words(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    web = browser_for(app, lead)
    bad_role = invite(web, group, "kim@example.org", role="overlord")
    assert bad_role.status_code == 400 and "Choose a role: ally or co-lead." in bad_role.text
    nobody = invite(web, group, " ,\n ")
    assert nobody.status_code == 400 and "Write from 1 to 50 work addresses." in nobody.text


def test_addresses_that_cannot_be_invited_are_named_and_the_typed_text_kept(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org",))
    lead = Person(app.test_client(), "Lee")
    group = lead.create_group()
    web = browser_for(app, lead)
    typed = "kim@example.org\nnot-an-address\npat@gmail.test"
    refused = invite(web, group, typed)
    text = refused.text
    assert refused.status_code == 400
    assert "2 addresses cannot be invited, so nobody was invited" in text
    assert "not-an-address: not an email address" in text
    assert "pat@gmail.test: must be an address of the organisation: example.org" in text
    assert f">{typed}</textarea>" in text
    assert "No invitations are waiting" in text, "nobody was invited"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_withdrawn_invitation_link_no_longer_works(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    web = browser_for(app, lead)
    invite(web, group, "kim@example.org")
    token = inbox(app, "kim@example.org", "invitations")[-1]
    (invitation,) = lead.get(f"/api/v1/groups/{group}/invitations").get_json()
    page = f"/groups/{group}/members"
    withdrawn = post(web, f"/groups/{group}/invitations/{invitation['id']}/withdraw", {}, page)
    assert withdrawn.status_code == 302
    assert "kim@example.org" not in web.get(page).text
    gone = app.test_client().get(f"/invitations/{token}")
    assert gone.status_code == 404 and "This invitation does not work" in gone.text


def test_the_invitee_signs_in_from_the_invitation_and_accepts_it(app: Flask, lead: Person, client: Any) -> None:
    kim = Person(client, "Kim")
    group = lead.create_group("Women in Engineering")
    invite(browser_for(app, lead), group, kim.email, role="lead")
    token = inbox(app, kim.email, "invitations")[-1]
    web = app.test_client()
    here = f"/invitations/{token}"
    shown = web.get(here)
    assert shown.status_code == 200 and "Women in Engineering" in shown.text and kim.email in shown.text
    assert f"/sign-in?next=/invitations/{token}" in shown.text, "signing in comes back here"
    signed = post(web, "/sign-in", {"email": kim.email, "password": kim.password, "next": here}, "/sign-in")
    assert signed.headers["Location"] == here
    offer = web.get(here).text
    assert "as a co-lead" in offer and "Accept and join Women in Engineering" in offer

    for _ in range(2):  # a second press (a double click, another tab) ends the same
        accepted = post(web, here, {}, here)
        assert accepted.status_code == 302 and accepted.headers["Location"] == "/ally/"
    assert "Women in Engineering" in web.get("/ally/").text
    assert kim.get(f"/api/v1/groups/{group}/insights").status_code == 200, "joined as a co-lead"
    assert "You accepted this invitation already" in web.get(here).text


def test_a_newcomer_signs_up_from_an_invitation_and_comes_back_to_accept(app: Flask, lead: Person) -> None:
    group = lead.create_group("Women in Engineering")
    invite(browser_for(app, lead), group, "new@example.org")
    token = inbox(app, "new@example.org", "invitations")[-1]
    web = app.test_client()
    here = f"/invitations/{token}"
    form = {"name": "Noor", "email": "new@example.org", "password": "a long enough password", "next": here}
    assert post(web, "/sign-up", form, f"/sign-up?next={here}").status_code == 302
    verify = inbox(app, "new@example.org", "verify")[-1]
    confirmed = post(web, f"/verify/{verify}", {}, f"/verify/{verify}")
    assert confirmed.headers["Location"] == here
    assert post(web, here, {}, here).headers["Location"] == "/ally/"
    assert "Women in Engineering" in web.get("/ally/").text


def test_an_invitation_opened_by_another_account_gets_a_403_page(app: Flask, lead: Person, client: Any) -> None:
    other = Person(client, "Out")
    group = lead.create_group()
    invite(browser_for(app, lead), group, "kim@example.org")
    token = inbox(app, "kim@example.org", "invitations")[-1]
    web = browser_for(app, other)
    shown = web.get(f"/invitations/{token}")
    assert shown.status_code == 403 and "This invitation is for another address" in shown.text
    assert "sign in (or create an account) with kim@example.org" in shown.text
    pressed = web.post(f"/invitations/{token}", data={"csrf_token": csrf(web, "/groups/")})
    assert pressed.status_code == 403
    assert other.get("/api/v1/groups").get_json() == [], "nothing joined"


def test_an_expired_invitation_gets_a_410_page(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    invite(browser_for(app, lead), group, "kim@example.org")
    token = inbox(app, "kim@example.org", "invitations")[-1]
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    gone = app.test_client().get(f"/invitations/{token}")
    assert gone.status_code == 410 and "This invitation has expired" in gone.text


def test_removing_a_member_asks_for_confirmation_first(app: Flask, lead: Person, client: Any) -> None:
    kim = Person(client, "Kim")
    group = lead.create_group("Women in Engineering")
    lead.add(group, kim)
    web = browser_for(app, lead)
    page = f"/groups/{group}/members"
    confirm = f"{page}/{kim.id}/remove"
    asked = web.get(confirm)
    assert asked.status_code == 200
    assert "Remove Kim from Women in Engineering?" in asked.text and "Nothing they logged is deleted" in asked.text
    assert kim.email in web.get(page).text, "opening the question removes nobody"
    assert post(web, confirm, {}, confirm).status_code == 302
    assert kim.email not in web.get(page).text
    assert kim.get("/api/v1/groups").get_json() == []


def test_a_lead_makes_an_ally_a_co_lead_and_back(app: Flask, lead: Person, client: Any) -> None:
    kim = Person(client, "Kim")
    group = lead.create_group()
    lead.add(group, kim)
    web = browser_for(app, lead)
    page = f"/groups/{group}/members"
    assert post(web, f"{page}/{kim.id}/role", {"role": "lead"}, page).status_code == 302
    assert kim.get(f"/api/v1/groups/{group}/insights").status_code == 200
    assert post(web, f"{page}/{kim.id}/role", {"role": "ally"}, page).status_code == 302
    assert kim.get(f"/api/v1/groups/{group}/insights").status_code == 403


def test_a_co_lead_gets_no_controls_for_the_owner_and_cannot_remove_them(app: Flask, lead: Person, client: Any) -> None:
    co_lead = Person(client, "Ola")
    group = lead.create_group()
    lead.add(group, co_lead, role="lead")
    web = browser_for(app, co_lead)
    page = f"/groups/{group}/members"
    listing = web.get(page).text
    owner_card = listing[listing.index(f'id="member-{lead.id}"') :]
    owner_card = owner_card[: owner_card.index("</li>")]
    assert "owner" in owner_card and "Remove" not in owner_card and "Make ally" not in owner_card
    assert web.get(f"{page}/{lead.id}/remove").status_code == 403
    removed = post(web, f"{page}/{lead.id}/remove", {}, page)
    assert removed.status_code == 403 and "hand the group over" in removed.text
    assert post(web, f"{page}/{lead.id}/role", {"role": "ally"}, page).status_code == 403
    assert lead.get(f"/api/v1/groups/{group}/insights").status_code == 200, "the owner still leads"


def test_the_owner_hands_the_group_over_to_a_co_lead(app: Flask, lead: Person, client: Any) -> None:
    co_lead = Person(client, "Ola")
    group = lead.create_group()
    lead.add(group, co_lead, role="lead")
    web = browser_for(app, lead)
    page = f"/groups/{group}/members"
    assert "Hand the group over" in web.get(page).text
    handed = post(web, f"/groups/{group}/owner", {"account_id": str(co_lead.id)}, page)
    assert handed.status_code == 302
    assert "Hand the group over" not in web.get(page).text, "no longer the owner"
    assert post(web, f"{page}/{co_lead.id}/remove", {}, page).status_code == 403, "the new owner is protected"
    new_owner = browser_for(app, co_lead)
    assert post(new_owner, f"{page}/{lead.id}/remove", {}, page).status_code == 302


def test_the_last_lead_cannot_be_removed(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    web = browser_for(app, lead)
    page = f"/groups/{group}/members"
    refused = post(web, f"{page}/{lead.id}/remove", {}, page)
    assert refused.status_code == 400
    assert "A group needs at least one lead" in refused.get_data(as_text=True)
    assert "A group needs at least one lead" in web.get(f"{page}/{lead.id}/remove").text, "said before asking"
    demoted = post(web, f"{page}/{lead.id}/role", {"role": "ally"}, page)
    assert demoted.status_code == 400 and "Make someone else a co-lead first" in demoted.text
    assert web.get(page).status_code == 200, "still the group's lead"


def test_an_ally_and_an_outsider_get_403_on_every_lead_page(app: Flask, lead: Person, client: Any) -> None:
    ally, outsider = Person(client, "Kim"), Person(client, "Out")
    group = lead.create_group()
    lead.add(group, ally)
    for person, status in ((ally, 403), (outsider, 403)):
        web = browser_for(app, person)
        token = csrf(web, "/groups/")
        for url in (f"/groups/{group}", f"/groups/{group}/members", f"/groups/{group}/insights.csv"):
            assert web.get(url).status_code == status, url
        added = web.post(
            f"/groups/{group}/members", data={"csrf_token": token, "emails": outsider.email, "role": "lead"}
        )
        assert added.status_code == status
        assert web.get(f"/groups/{group}/members/{lead.id}/remove").status_code == status
        removed = web.post(f"/groups/{group}/members/{lead.id}/remove", data={"csrf_token": token})
        assert removed.status_code == status
    assert browser_for(app, lead).get("/groups/999999").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/groups/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_a_post_without_the_csrf_token_is_refused(app: Flask, lead: Person, client: Any) -> None:
    ally = Person(client, "Kim")
    group = lead.create_group()
    web = browser_for(app, lead)
    refused = web.post(f"/groups/{group}/members", data={"emails": ally.email, "role": "ally"})
    assert refused.status_code == 400
    assert web.post("/groups/", data={"name": "Sneaky"}).status_code == 400
    assert "Sneaky" not in web.get("/groups/").get_data(as_text=True)
    assert ally.email not in web.get(f"/groups/{group}/members").get_data(as_text=True), "not even invited"


def test_before_any_release_the_page_explains_what_it_waits_for(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    page = browser_for(app, lead).get(f"/groups/{group}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nothing released yet" in text and "at least 5 answers" in text and "at least 2 different allies" in text


def test_the_insights_page_shows_charts_numbers_and_suppressed_cells(app: Flask, lead: Person, client: Any) -> None:
    group = lead.create_group("Women in Engineering")
    fill_group(client, lead, group)
    page = browser_for(app, lead).get(f"/groups/{group}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('<svg class="chart"') >= 5 and 'role="img"' in text and "<figcaption>" in text
    assert "Signaling vs mitigation paths" in text and "Public vs private actions" in text
    assert "Trend by month" in text and "Right after: did it help?" in text and "immediate.v1" not in text
    assert '<p class="hidden-cells">Not shown yet: ' in text, "hidden cells said in one line"
    assert "style=" not in text, "the CSP forbids inline style"
    assert "=HYPERLINK(&#34;x&#34;) note 0" in text or "=HYPERLINK(&quot;x&quot;) note 0" in text


def _csv(web: FlaskClient, group: int) -> tuple[Any, list[dict[str, str]]]:
    response = web.get(f"/groups/{group}/insights.csv")
    return response, list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_holds_exactly_the_released_aggregates(app: Flask, lead: Person, client: Any) -> None:
    group = lead.create_group("=cmd|' /C calc'!A0")
    fill_group(client, lead, group)
    released = lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"]
    view = released["questionnaires"]["immediate.v1"]
    kinds = view["slices"]["kind"]
    assert "responses" in kinds["credit"] and kinds["sponsor"] == {"suppressed": True}, "the scenario has both"
    response, rows = _csv(browser_for(app, lead), group)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(
        rf'attachment; filename="allyloop-group-{group}-insights-\d{{4}}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    by_key = {(r["table"], r["row"], r["column"]): r for r in rows}
    assert by_key[("", "Group", "")]["value"] == "'=cmd|' /C calc'!A0", "a formula is defused"
    assert by_key[("At a glance", "Answers released", "Value")]["value"] == str(released["responses"])
    # Every option count of every question, as released, under the question and option it belongs to.
    questionnaire = questionnaires.load("immediate.v1")
    for item_id, item in view["items"].items():
        asked = questionnaire.item(item_id)
        labels = {o.value: o.label for o in asked.options} or {
            point: text if point == "na" else f"{point}: {text}" for point, text in asked.labels.items()
        }
        for value, n in item["counts"].items():
            label = labels.get(value, value)
            assert by_key[(asked.prompt, label, "Answers")]["value"] == str(n), (item_id, value)
    for cell, shown in kinds.items():
        if "responses" in shown:
            row = next(r for r in rows if r["table"] == "By kind of action" and r["row"].lower().startswith(cell))
            assert row["column"] == "Responses" and row["value"] == str(shown["responses"])
    # A suppressed cell is a word in every column, never a number.
    hidden = [cell for cell, shown in kinds.items() if shown.get("suppressed")]
    for kind in hidden:
        cells = [r for r in rows if r["table"] == "By kind of action" and r["row"].lower().startswith(kind)]
        assert cells and all(r["value"] == "suppressed" for r in cells), kind
    assert all(not r["value"].startswith(("=", "+", "-", "@")) for r in rows)
    assert not any("note" in r["value"] for r in rows), "comments are not aggregates and stay out of the CSV"


def test_the_csv_before_any_release_holds_zeros_only(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    response, rows = _csv(browser_for(app, lead), group)
    assert response.status_code == 200
    values = {r["row"]: r["value"] for r in rows if r["table"] == "At a glance"}
    assert values["Answers released"] == "0" and values["Releases"] == "0"
    assert set(values.values()) == {"0"}, values


def test_released_follow_ups_get_a_does_it_last_section(app: Flask, lead: Person, client: Any) -> None:
    group = lead.create_group()
    recipient = Recipient(client)
    later = {"lasting_difference": 4, "recurred": "less", "results": ["introduction", "visibility"]}
    for name in ("Ana", "Ben", "Cy"):
        person = Person(client, name)
        lead.add(group, person)
        action = person.log_action(group, kind="sponsor")
        person.ask(action, stage="immediate", count=1)
        make_due(app, action)
        for token in person.ask(action, stage="followup_30", count=4):
            assert recipient.answer(token, later).status_code == 202
    text = browser_for(app, lead).get(f"/groups/{group}").get_data(as_text=True)
    assert "Later: does it last?</h2>" in text
    assert "Lasting difference (mean)" in text and "4.0 of 5" in text


def test_a_co_lead_who_removes_themselves_goes_back_to_their_groups(app: Flask, lead: Person, client: Any) -> None:
    co_lead = Person(client, "Ola")
    group = lead.create_group()
    lead.add(group, co_lead, role="lead")
    web = browser_for(app, co_lead)
    page = f"/groups/{group}/members"
    left = post(web, f"{page}/{co_lead.id}/remove", {}, page)
    assert left.status_code == 302 and left.headers["Location"].endswith("/groups/")
    assert web.get(page).status_code == 403, "no longer a lead"


LATER_30 = {"lasting_difference": 4, "recurred": "less", "ally_checked_back": "yes"}
LATER_90 = {"lasting_difference": 3, "recurred": "same", "ally_checked_back": "no"}
RIGHT_AFTER = {"wanted": "yes", "felt_recognised": 5, "seen_capable": 4, "changed_treatment": 2, "gave_access": 4}


def lasting_group(app: Flask) -> tuple[Person, int]:
    """Three allies credit (signaling), three sponsor (access), one mentors (interpersonal):
    (right after, 30 days, 90 days) answers per action as planned below. Two more actions
    are never followed up. All released in one run, follow-ups due last month."""
    client = app.test_client()
    lead, recipient = Person(client, "Lead"), Recipient(client)
    group = lead.create_group()
    plan = [("credit", 3, 3, 3)] * 3 + [("sponsor", 3, 3, 0)] * 3 + [("mentor", 2, 0, 0)]
    allies = []
    for index, (kind, *counts) in enumerate(plan):
        person = Person(client, f"Ally{index}")
        lead.add(group, person)
        allies.append(person)
        action = person.log_action(group, kind=kind)
        for stage, n, answers in zip(
            ("immediate", "followup_30", "followup_90"), counts, (RIGHT_AFTER, LATER_30, LATER_90), strict=True
        ):
            if stage != "immediate":
                make_due(app, action, stage)
            for token in person.ask(action, stage, count=n) if n else []:
                assert recipient.answer(token, answers).status_code == 202
    for person in allies:
        person.ask(person.log_action(group), "immediate", count=1)  # never followed up
    last_month = utcnow().date().replace(day=1) - timedelta(days=45)  # the follow-up window has closed
    with app.app_context():
        db.session.execute(update(Followup).values(due_on=last_month))
        db.session.execute(update(Followup).where(Followup.asked_on.is_not(None)).values(asked_on=last_month))
        db.session.commit()
        run_due_now()
    return lead, group


def row_cells(html: str, label: str) -> list[str]:
    """The text of each cell in the table row headed ``label``."""
    found = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', html, re.S)
    assert found, f"a row for {label}"
    return re.findall(r"<td[^>]*>([^<]*)</td>", found.group(1))


def test_the_page_sets_right_after_beside_30_and_90_days_and_shows_the_follow_up_rate(tmp_path: Path) -> None:
    # Nothing listens at that Redis: one release run, below, which releases at once.
    app = build_app(tmp_path, redis_url="redis://127.0.0.1:9/0", group_hold_days=0)
    lead, group = lasting_group(app)
    lasting = lead.get(f"/api/v1/groups/{group}/insights").get_json()["released"]["lasting"]
    web = browser_for(app, lead)
    text = web.get(f"/groups/{group}").get_data(as_text=True)
    section = text[text.index('<section id="does-it-last"') :]
    section = section[: section.index("</section>")]
    assert "<figcaption><h4>Does it last? By path</h4></figcaption>" in section
    assert section.count('role="img"') == 2, "a chart by path and one by kind"
    # Oldest first: the six followed-up actions of six allies are one batch, the next six (none
    # followed up) another; the last two, from two allies, wait for more.
    assert "Allies who followed up: <strong>50% of 12 actions</strong>" in section, "the oldest batches"
    hidden, missing = "hidden by the release rules", "not enough yet"
    # Each stage's cells on the page are exactly what the release published for that path.
    for label, path in (("Signaling", "signaling"), ("Mitigation: access", "access")):
        cells = row_cells(section, label)
        for stage, first in (("followup_30", 2), ("followup_90", 5)):
            released = lasting["by_path"][path][stage]
            shown = cells[first : first + 3]
            if released is None:
                assert shown == [missing] * 3, (label, stage)
            elif released.get("suppressed"):
                assert shown == [hidden] * 3, (label, stage)
            else:
                lasted, less = f"{released['lasting']:.1f} of 5", f"{round(100 * released['recurred_less'])}%"
                assert shown == [str(released["responses"]), lasted, less], (label, stage)
    assert row_cells(section, "Signaling")[:2] == [hidden, hidden], "mentoring's two answers hide right-after"
    assert lasting["by_path"]["access"]["followup_90"] is None, "no sponsor asked at 90 days"
    assert any(
        lasting["by_path"][path]["followup_30"] not in (None, {"suppressed": True}) for path in ("signaling", "access")
    ), "some 30-day result is released"
    assert lasting["by_path"]["signaling"]["immediate"] == {"suppressed": True}, "mentoring's two answers"
    assert 'class="suppressed">hidden by the release rules' in section

    _, rows = _csv(web, group)
    by_key = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    assert by_key[("Does it last? By path", "Signaling", "After 30 days: lasting difference (mean)")] == "4.0"
    assert by_key[("Does it last? By path", "Signaling", "After 90 days: came up less (%)")] == "0"
    assert by_key[("Does it last? By path", "Signaling", "Right after: responses")] == "suppressed"
    assert by_key[("Does it last? By path", "Mitigation: access", "After 90 days: responses")] == "not released"
    assert by_key[("Does it last? By kind of action", "Sponsor (Mitigation: access)", "Right after: responses")] == "9"
    assert by_key[("Did allies follow up?", "Allies who followed up", "Value")] == "50"
    assert by_key[("Did allies follow up?", "Actions counted", "Value")] == "12"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_too_few_actions_due_show_the_follow_up_rate_as_not_enough_yet(app: Flask, lead: Person) -> None:
    fill_group(app.test_client(), lead, group := lead.create_group())
    text = browser_for(app, lead).get(f"/groups/{group}").get_data(as_text=True)
    assert "Allies who followed up: <strong>not enough yet (suppressed" in text


@pytest.mark.parametrize(
    ("page", "form"),
    [
        ("/groups/", {"name": "Wo\x00men"}),
        ("/sign-in", {"email": "a\x00@example.org", "password": "correct horse battery"}),
        ("/sign-up", {"name": "N\x00", "email": "new@example.org", "password": "correct horse battery"}),
    ],
)
def test_a_nul_character_in_any_page_form_is_a_400_and_stores_nothing(
    app: Flask, lead: Person, page: str, form: dict[str, str]
) -> None:
    web = browser_for(app, lead)
    response = post(web, page, form, page)
    assert response.status_code == 400
    assert "cannot be stored" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Group).count() == 0 and db.session.query(Account).count() == 1


def test_a_nul_character_in_a_member_email_is_a_400(app: Flask, lead: Person) -> None:
    group = lead.create_group()
    web = browser_for(app, lead)
    page = f"/groups/{group}/members"
    response = post(web, page, {"emails": "a\x00@example.org", "role": "ally"}, page)
    assert response.status_code == 400 and "cannot be stored" in response.get_data(as_text=True)


def load_section_of(html: str) -> str:
    section = html[html.index('<section id="response-load"') :]
    return section[: section.index("</section>")]


def test_the_page_and_csv_show_the_response_load_by_period(app: Flask, lead: Person, client: Any) -> None:
    scenario = build_scenario(app, client, lead)
    web = browser_for(app, lead)
    section = load_section_of(web.get(f"/groups/{scenario.group}").get_data(as_text=True))
    assert section.count('role="img"') == 2 and "<table>" in section, "answers by month, and links by period"
    merged, last = f"{page_month(months_ago(3))} to {page_month(months_ago(2))}", page_month(months_ago(1))
    assert row_cells(section, merged) == ["12", "11", "2", "18%"], "links, answers, declined, declined share"
    assert row_cells(section, last)[0] == "suppressed (fewer than 5 links, or too few allies)"
    assert f'<th scope="row">{page_month(months_ago(3))}</th>' not in section, "one ally's month never alone"
    assert row_cells(section, "Answers released per link sent") == ["92% of 12 links"]

    _, rows = _csv(web, scenario.group)
    by_key = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    by_month = "Links sent and answers released, by month"
    assert by_key[(by_month, merged, "Answer links sent")] == "12"
    assert by_key[(by_month, merged, "I'd rather not answer")] == "2"
    assert by_key[(by_month, last, "Answer links sent")] == "suppressed"
    assert by_key[("Response rate", "Answers released per link sent", "Value")] == "92"
    assert by_key[("Response rate", "Answer links sent", "Value")] == "12"


def test_the_response_load_shows_before_anything_is_released(app: Flask, lead: Person, client: Any) -> None:
    scenario = Scenario(app, client, lead)
    for name in ("Ana", "Ben", "Cy"):
        scenario.send(name, 3, month=1)
    text = browser_for(app, lead).get(f"/groups/{scenario.group}").get_data(as_text=True)
    assert "Nothing released yet" in text
    assert row_cells(load_section_of(text), page_month(months_ago(1))) == ["9", "0", "0", "no answers"]
