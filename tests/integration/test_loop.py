"""The core loop through the API: ask, answer sealed, release only whole cohorts of k."""

from typing import Any

from tests.conftest import Person, Recipient, release_at_once

WANTED = {"wanted": "yes", "felt_recognised": 4, "gave_access": "na", "downsides": ["none"]}


def answer_all(
    recipient: Recipient, tokens: list[str], comment: dict[str, str] | None = None, answers: Any = None
) -> None:
    for token in tokens:
        response = recipient.answer(token, answers if answers is not None else WANTED, comment)
        assert response.status_code == 202, response.get_json()
        assert response.get_json()["receipt"]


def released(person: Person, url: str = "/api/v1/me/feedback") -> dict[str, Any]:
    response = person.get(url)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json()["released"])


def test_fewer_than_k_answers_release_nothing(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    answer_all(recipient, tokens[:4], {"text": "early words", "audience": "ally"})
    view = released(ally)
    assert view["responses"] == 0 and view["cohorts"] == 0
    assert view["comments"] == [] and view["items"] == {}


def test_the_kth_answer_releases_a_pooled_cohort_to_the_ally(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    answer_all(recipient, ally.ask(ally.log_action(group), count=5))
    view = released(ally)
    assert view["responses"] == 5 and view["cohorts"] == 1
    item = view["items"]["immediate.v1"]["wanted"]
    assert item == {"answered": 5, "counts": {"yes": 5}}


def test_a_view_changes_only_by_a_whole_new_cohort(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=10)
    answer_all(recipient, tokens[:5])
    answer_all(recipient, tokens[5:9])
    assert released(ally)["responses"] == 5, "four more answers must not show"
    answer_all(recipient, tokens[9:])
    view = released(ally)
    assert view["responses"] == 10 and view["cohorts"] == 2


def test_pooled_results_span_all_of_an_allys_actions(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    first = ally.ask(ally.log_action(group, kind="credit"), count=3)
    second = ally.ask(ally.log_action(group, kind="sponsor"), count=2)
    answer_all(recipient, first + second)
    view = released(ally)
    assert view["responses"] == 5
    kinds = view["questionnaires"]["immediate.v1"]["slices"]["kind"]
    assert kinds["credit"] == {"suppressed": True} and kinds["sponsor"] == {"suppressed": True}


def test_comments_reach_only_the_audience_the_recipient_chose(lead: Person, ally: Person, client: Any) -> None:
    other, third = Person(client, "Kim"), Person(client, "Sam")
    group = lead.create_group()
    for member in (ally, other, third):
        lead.add(group, member)
    recipient = Recipient(client)
    audiences = ["ally", "lead", "both", "none", "ally"]
    for token, audience in zip(ally.ask(ally.log_action(group), count=5), audiences, strict=True):
        assert (
            recipient.answer(token, WANTED, {"text": f"note for {audience}", "audience": audience}).status_code == 202
        )
    answer_all(recipient, other.ask(other.log_action(group), count=5))
    answer_all(recipient, third.ask(third.log_action(group), count=5))
    assert sorted(released(ally)["comments"]) == ["note for ally", "note for ally", "note for both"]
    group_view = released(lead, f"/api/v1/groups/{group}/insights")
    assert sorted(group_view["comments"]) == ["note for both", "note for lead"]
    assert "note for none" not in str(group_view) + str(released(ally))


def test_group_insights_need_a_pool_beyond_any_one_ally(lead: Person, ally: Person, client: Any) -> None:
    """Even a lead who is an ally too, and knows their own answers, never reads one other ally's (P5)."""
    release_at_once(lead.client.application)
    group = lead.create_group()
    lead.add(group, ally)
    recipient = Recipient(client)
    answer_all(recipient, ally.ask(ally.log_action(group), count=10))
    assert released(ally)["responses"] == 10
    assert released(lead, f"/api/v1/groups/{group}/insights")["responses"] == 0, "one ally's results alone"
    answer_all(recipient, lead.ask(lead.log_action(group, kind="sponsor"), count=10))
    assert released(lead, f"/api/v1/groups/{group}/insights")["responses"] == 0, "lead minus own = the ally's"
    third = Person(client, "Sam")
    lead.add(group, third)
    answer_all(recipient, third.ask(third.log_action(group, kind="mentor"), count=1))
    insights = released(lead, f"/api/v1/groups/{group}/insights")
    # Now whoever's share is taken away, k answers from two allies remain.
    assert insights["responses"] == 21 and insights["cohorts"] == 1
    kinds = insights["questionnaires"]["immediate.v1"]["slices"]["kind"]
    assert all(cell == {"suppressed": True} for cell in kinds.values()), "each kind is one ally's"


def test_declining_counts_as_a_response_with_no_answers(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    answer_all(recipient, ally.ask(ally.log_action(group), count=5), answers={})
    view = released(ally)
    assert view["responses"] == 5
    assert view["questionnaires"]["immediate.v1"]["declined"] == 5


def test_advice_requests_use_the_advice_questionnaire(lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), stage="advice", count=5)
    page = recipient.client.get(f"/api/v1/answer/{tokens[0]}").get_json()
    assert page["questionnaire"]["id"] == "advice.v1"
    assert page["action"]["summary"] == "Credited Sam's design in the review"
    answer_all(recipient, tokens, answers={"want": "make_room", "recognition": "private"})
    assert released(ally)["items"]["advice.v1"]["want"]["counts"] == {"make_room": 5}


def test_an_ally_lists_only_their_own_actions(lead: Person, ally: Person, client: Any) -> None:
    other = Person(client, "Kim")
    group = lead.create_group()
    lead.add(group, ally)
    lead.add(group, other)
    mine = ally.log_action(group, summary="Mine")
    other.log_action(group, summary="Theirs")
    listed = ally.get("/api/v1/actions").get_json()
    assert [a["id"] for a in listed] == [mine]
    assert listed[0]["path"] == "signaling"


def test_links_are_absolute_urls_with_an_expiry(lead: Person, ally: Person) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    response = ally.post(f"/api/v1/actions/{ally.log_action(group)}/requests", {"stage": "immediate", "count": 3})
    links = response.get_json()["links"]
    assert len({link["url"] for link in links}) == 3
    assert all(link["url"].startswith("http://allyloop.test/r/") for link in links)
    assert all(link["expires_at"].endswith("+00:00") or link["expires_at"].endswith("Z") for link in links)


def test_released_comments_do_not_keep_the_order_they_arrived_in(lead: Person, ally: Person, client: Any) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    recipient = Recipient(client)
    arrived = [f"comment {n:02}" for n in range(20)]
    for token, text in zip(ally.ask(ally.log_action(group), count=20), arrived, strict=True):
        assert recipient.answer(token, WANTED, {"text": text, "audience": "ally"}).status_code == 202
    shown = released(ally)["comments"]
    assert sorted(shown) == arrived
    # Four cohorts of five, each in its own random order: this fails by luck once in 120**4.
    assert shown != arrived
