"""An ERG lead's whole flow in a real browser: sign up, create a group, invite a co-lead who
accepts in their own browser, remove them after asking, read the insights once answers are
released, download the CSV. Axe checks every page."""

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api.extensions import db
from feedback.models import FeedbackRequest, Scope
from tests.conftest import Person, Recipient, inbox
from tests.e2e.conftest import PHONE, LiveServer, assert_accessible, screenshot, sign_up
from tests.integration.load_scenario import months_ago, page_month, redate_releases
from tests.integration.test_web_lead import fill_group


class SignedUpInBrowser(Person):
    """The lead who signed up in the browser, also speaking to the API (to compare the CSV)."""

    def __init__(self, client: Any, email: str, password: str) -> None:
        self.client, self.email, self.password = client, email, password
        token = client.post("/api/v1/tokens", json={"email": email, "password": password}).get_json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}


def test_a_lead_creates_a_group_adds_allies_reads_insights_and_downloads_csv(
    live_server: LiveServer, page: Any, tmp_path: Path
) -> None:
    sign_up(page, live_server, "Lee Lead", "lee.lead@example.org")
    page.get_by_role("link", name="Groups I lead").click()
    page.get_by_role("heading", name="Groups I lead").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-groups-empty")

    page.get_by_role("button", name="Create group").click()  # no name: the form comes back
    page.get_by_text("Please check the following").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-groups-form-error")
    page.get_by_label("Group name").fill("Women in Engineering")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("heading", name="Members of Women in Engineering").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-members")
    group_id = int(page.url.rstrip("/").split("/")[-2])

    api = live_server.app.test_client()
    lead = SignedUpInBrowser(api, "lee.lead@example.org", "a long enough password")

    page.get_by_label("Their work email addresses").fill("not-an-address")
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text("not-an-address: not an email address").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-members-invite-errors")
    co_lead = Person(api, "Cora")
    page.get_by_label("Their work email addresses").fill(f"{co_lead.email}\nsam@example.org")
    page.get_by_label("Co-lead").check()
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text("Invited 2 people.").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-members-pending")
    page.get_by_role("button", name="Withdraw the invitation to sam@example.org").click()
    page.get_by_role("heading", name="Members of Women in Engineering").wait_for()
    assert page.get_by_text("sam@example.org").count() == 0

    # Cora, in her own browser, opens the invitation, signs in, and comes back to accept it.
    invitee = page.context.browser.new_context(viewport=PHONE)
    cora = invitee.new_page()
    cora.goto(f"{live_server.url}/invitations/{inbox(live_server.app, co_lead.email, 'invitations')[-1]}")
    cora.get_by_role("link", name="Sign in").first.click()
    cora.get_by_label("Email").fill(co_lead.email)
    cora.get_by_label("Password").fill(co_lead.password)
    cora.get_by_role("button", name="Sign in").click()
    cora.get_by_role("button", name="Accept and join Women in Engineering").wait_for()
    assert_accessible(cora)
    screenshot(cora, "invitation")
    cora.get_by_role("button", name="Accept and join Women in Engineering").click()
    cora.get_by_role("heading", name="My groups").wait_for()
    invitee.close()

    page.reload()
    page.get_by_text(co_lead.email, exact=True).wait_for()
    page.get_by_role("link", name="Remove Cora").click()
    page.get_by_role("heading", name="Remove Cora from Women in Engineering?").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-remove-confirm")
    page.get_by_role("button", name="Yes, remove Cora").click()
    page.get_by_role("heading", name="Members of Women in Engineering").wait_for()
    assert page.get_by_text(co_lead.email).count() == 0
    page.get_by_role("link", name="Leave Lee Lead").click()  # the last lead stays
    page.get_by_text("A group needs at least one lead").first.wait_for()
    assert page.get_by_role("button", name="Yes, leave the group").count() == 0
    assert_accessible(page)
    screenshot(page, "lead-members-last-lead")
    page.get_by_role("link", name="Back to the members").click()

    page.get_by_role("link", name="Insights for Women in Engineering").click()
    page.get_by_role("heading", name="Nothing released yet").wait_for()
    assert_accessible(page)
    screenshot(page, "lead-insights-empty")

    fill_group(api, lead, group_id)  # six allies added, their actions answered and released
    with live_server.app.app_context():  # ... last month, so the response load can count it
        db.session.execute(update(FeedbackRequest).values(created_on=months_ago(1)))
        redate_releases(db.session, select(Scope.id), months_ago(1))
        db.session.commit()
    page.get_by_role("link", name="Members of Women in Engineering").click()
    assert page.locator("ul.members li").count() == 7, "the lead and six allies"
    assert_accessible(page)
    screenshot(page, "lead-members-full")

    page.get_by_role("link", name="Insights for Women in Engineering").click()
    page.get_by_role("heading", name="Right after: did it help?").wait_for()
    assert page.get_by_text("immediate.v1").count() == 0, "no internal ids"
    hidden = page.locator("#immediate-v1 > figure p.hidden-cells")
    assert hidden.count() == 1 and hidden.inner_text().startswith("Not shown yet: "), "one line for what is hidden"
    assert page.get_by_role("heading", name="Does it last?", exact=True).count() == 1
    assert page.locator("#lasting-overall").get_by_role("row", name="Answers").count() == 1
    assert page.get_by_text("Allies who followed up: not enough yet").count() == 1
    assert_accessible(page)
    screenshot(page, "lead-insights-partly-hidden")  # folded: what a lead sees first

    page.locator("#immediate-v1 details > summary").first.click()
    assert page.get_by_role("img", name="By kind of action: mean answer on the 1 to 5 scales").count() == 1
    page.get_by_role("heading", name="Was this kind of help something you wanted?").wait_for()
    page.locator("#does-it-last details > summary").first.click()
    lasting = page.get_by_role(
        "img", name="Does it last? By path: right after, and 30 and 90 days later (mean answer, 1 to 5)"
    )
    assert lasting.count() == 1
    page.get_by_text("Month by month: answers released, links sent and the response rate").click()
    assert page.get_by_role("img", name="Links sent and answers released, by month").count() == 1
    load_row = page.locator("#load-by-month").get_by_role("row", name=page_month(months_ago(1)))
    assert load_row.get_by_role("cell").first.inner_text() == "27", "six allies' links, all shown"
    assert page.locator("figure svg[role=img]").count() >= 5
    assert_accessible(page)
    screenshot(page, "lead-insights-unfolded")
    page.set_viewport_size(PHONE)
    small = page.evaluate(
        "Math.min(...[...document.querySelectorAll('svg.chart text')]"
        ".map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))"
    )
    assert small >= 12, f"chart text drawn at {small:.1f} px on a 390 px phone"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download every number (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"allyloop-group-{group_id}-insights-")
    path = tmp_path / "insights.csv"
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    released = lead.get(f"/api/v1/groups/{group_id}/insights").get_json()["released"]
    total = next(r for r in rows if r["row"] == "Answers released")
    assert total["value"] == str(released["responses"]) and released["responses"] > 0
    assert any(r["value"] == "suppressed" for r in rows)


def test_a_group_whose_every_cell_shows_reads_as_numbers_alone(live_server: LiveServer, page: Any) -> None:
    """Three allies, each crediting a colleague in public and asking five people: every cell of
    every breakdown holds all the answers, so nothing is hidden and no line says so."""
    sign_up(page, live_server, "Lee Lead", "lee.lead@example.org")
    api = live_server.app.test_client()
    lead = SignedUpInBrowser(api, "lee.lead@example.org", "a long enough password")
    group_id = lead.create_group("Women in Engineering")
    recipient = Recipient(api)
    answers = {"wanted": "yes", "felt_recognised": 4, "changed_treatment": 2, "prefer_next": "make_room"}
    for name in ("Ana", "Ben", "Cy"):
        ally = Person(api, name)
        lead.add(group_id, ally)
        for token in ally.ask(ally.log_action(group_id, kind="credit", visibility="public"), count=5):
            assert recipient.answer(token, answers).status_code == 202
    page.goto(f"{live_server.url}/groups/{group_id}")
    page.get_by_role("heading", name="Right after: did it help?").wait_for()
    assert page.locator("p.hidden-cells").count() == 0, "no breakdown hides a cell"
    assert page.locator("section > figure td.suppressed").count() == 0, "nothing open is a placeholder"
    total = page.locator("#immediate-v1 > figure").first.locator("tbody tr").first
    released = lead.get(f"/api/v1/groups/{group_id}/insights").get_json()["released"]["questionnaires"]
    assert total.locator("td").first.inner_text() == str(released["immediate.v1"]["responses"]), total.inner_text()
    assert page.get_by_text("Most chosen: Make room for me to speak.").count() == 1
    assert_accessible(page)
    screenshot(page, "lead-insights-full")
