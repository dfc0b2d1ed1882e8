"""What one person writes for others to read reaches them without bidi overrides or hidden
characters: action summaries on the recipient's page, group names, recipients' comments."""

from flask.testing import FlaskClient

from tests.conftest import Person, Recipient

RLO = "\u202e"  # right-to-left override: "evil\u202etxt.exe" shows as "evilexe.txt"


def test_the_recipient_reads_an_action_summary_without_its_override(
    lead: Person, ally: Person, client: FlaskClient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = ally.ask(ally.log_action(group, summary=f"Shared evil{RLO}txt.exe with the team"), count=1)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Shared eviltxt.exe with the team" in page and RLO not in page
    action = client.get(f"/api/v1/answer/{token}").get_json()["action"]
    assert action["summary"] == "Shared eviltxt.exe with the team"
    listed = ally.get("/api/v1/actions").get_json()
    assert RLO not in str(listed), "stored without it, so every later reader sees the same"


def test_a_summary_of_only_invisible_characters_is_refused_as_blank(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    body = {"group_id": group, "kind": "credit", "summary": f"{RLO}\u200b", "occurred_on": "2024-01-02"}
    response = ally.post("/api/v1/actions", {**body, "visibility": "public"})
    assert response.status_code == 400 and "summary" in response.get_json()["error"]["fields"]


def test_a_group_name_cannot_hide_characters_from_its_members(lead: Person) -> None:
    created = lead.post("/api/v1/groups", {"name": f"Women in\u200b Eng{RLO}ineering"})
    assert created.status_code == 201 and created.get_json()["name"] == "Women in Engineering"
    blank = lead.post("/api/v1/groups", {"name": "\u2066\u2069"})
    assert blank.status_code == 400 and "name" in blank.get_json()["error"]["fields"]


def test_the_ally_reads_a_released_comment_without_its_override(
    lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    comment = {"text": f"Thank you{RLO} for asking", "audience": "ally"}
    for token in tokens:
        assert recipient.answer(token, {"wanted": "yes"}, comment).status_code == 202
    comments = ally.get("/api/v1/me/feedback").get_json()["released"]["comments"]
    assert comments == ["Thank you for asking"] * 5


def test_a_plain_form_comment_of_only_invisible_characters_is_no_comment(
    lead: Person, ally: Person, client: FlaskClient
) -> None:
    """As with an empty box: the answers go in, and no audience needs choosing."""
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = ally.ask(ally.log_action(group), count=1)
    response = client.post(f"/r/{token}", data={"item-wanted": "yes", "comment": f"\u200b{RLO}"})
    assert response.status_code == 200 and "Receipt" in response.get_data(as_text=True)
