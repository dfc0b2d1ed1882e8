"""The recipient page at /r/{token}: works with no JavaScript, sealed by the server on arrival."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.extensions import db
from feedback.models import Envelope, Response
from tests.conftest import Person


@pytest.fixture
def tokens(lead: Person, ally: Person) -> list[str]:
    group = lead.create_group()
    lead.add(group, ally)
    return ally.ask(ally.log_action(group, summary="Asked Dana to present her own results"), count=5)


def test_the_page_shows_what_the_ally_did_and_every_question(client: FlaskClient, tokens: list[str]) -> None:
    page = client.get(f"/r/{tokens[0]}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Asked Dana to present her own results" in text
    assert 'name="item-wanted"' in text and 'name="item-downsides"' in text
    assert "I&#39;d rather not answer" in text or "I'd rather not answer" in text
    scripts = re.findall(r"<script[^>]*>", text)
    assert scripts and all(re.search(r'src="/static/[a-z]+\.js"', tag) for tag in scripts), "no inline script"
    assert 'method="post"' in text, "the plain form still posts without JavaScript"


def test_the_form_carries_what_the_browser_needs_to_seal(client: FlaskClient, tokens: list[str]) -> None:
    """The page's data- attributes match what the JSON API hands a third-party client."""
    text = client.get(f"/r/{tokens[0]}").get_data(as_text=True)
    api = client.get(f"/api/v1/answer/{tokens[0]}").get_json()
    key, info, pad_to = api["key"], api["info"], api["pad_to"]
    assert f'data-public-key="{key["public_key"]}"' in text
    assert f'data-kid="{key["kid"]}"' in text
    assert f'data-info="{info}"' in text
    assert f'data-pad-to="{pad_to}"' in text
    assert f'data-endpoint="/api/v1/answer/{tokens[0]}"' in text


def test_the_page_says_a_comment_for_the_leads_never_reaches_the_person_who_asked(
    client: FlaskClient, tokens: list[str]
) -> None:
    text = client.get(f"/r/{tokens[0]}").get_data(as_text=True)
    audience = text.split('<fieldset class="audience">', 1)[1].split("</fieldset>", 1)[0]
    lead = audience.split('value="lead">', 1)[1].split("</label>", 1)[0]
    assert "Only the group's ERG leads" in lead
    assert "The person who asked never reads it, even if they are or become a lead." in lead
    assert "Only the person who asked you" in audience and "Nobody" in audience


def test_a_plain_form_answer_is_sealed_and_gets_a_receipt(app: Flask, client: FlaskClient, tokens: list[str]) -> None:
    form = {"item-wanted": "partly", "item-downsides": ["spoken_for"], "comment": "", "audience": "ally"}
    response = client.post(f"/r/{tokens[0]}", data=form)
    assert response.status_code == 200
    assert "Receipt" in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.query(Envelope).one()
        assert b"partly" not in stored.sealed and len(stored.sealed) > 4000
    assert client.get(f"/r/{tokens[0]}").status_code == 410


def test_declining_is_one_button(app: Flask, client: FlaskClient, tokens: list[str]) -> None:
    response = client.post(f"/r/{tokens[0]}", data={"item-wanted": "yes", "decline": "1"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(Response).count() == 1


def test_a_comment_without_a_chosen_audience_is_sent_back_not_guessed(
    app: Flask, client: FlaskClient, tokens: list[str]
) -> None:
    response = client.post(f"/r/{tokens[0]}", data={"comment": "thank you"})
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Response).count() == 0
    assert client.get(f"/r/{tokens[0]}").status_code == 200, "the link is still usable"


def test_a_form_sent_back_keeps_every_answer_and_the_comment_and_stores_none(
    app: Flask, client: FlaskClient, tokens: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    form = {
        "item-wanted": "partly",
        "item-felt_recognised": "4",
        "item-downsides": ["spoken_for", "none"],  # "none" cannot be combined: sent back
        "comment": "The marmalade review went better",
        "audience": "lead",
    }
    response = client.post(f"/r/{tokens[0]}", data=form)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'name="item-wanted" value="partly" checked', text)
    assert re.search(r'name="item-felt_recognised" value="4" checked', text)
    assert re.search(r'name="item-downsides" value="spoken_for" checked', text)
    assert re.search(r'name="audience" value="lead" checked', text)
    assert ">The marmalade review went better</textarea>" in text
    assert text.count('name="item-wanted" value="yes" checked') == 0
    summary = text.split('id="form-problems"', 1)[1].split("</div>", 1)[0]
    assert 'href="#item-downsides"' in summary and "Did it have any downsides for you?" in summary
    assert "marmalade" not in caplog.text
    with app.app_context():
        assert db.session.query(Response).count() == 0


def test_the_page_names_the_organisation_and_says_why_the_link_is_safe(make_app: Any) -> None:
    client = make_app(org_name="Example Ltd").test_client()
    lead, ally = Person(client, "Lee"), Person(client, "Alex")
    group = lead.create_group()
    lead.add(group, ally)
    (token,) = ally.ask(ally.log_action(group), count=1)
    text = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Example Ltd" in text and "This link is safe" in text
    assert text.index("rather not answer") < text.index('id="answer-form"'), "declining is offered at the top"
    assert "7 questions" in text


def test_unknown_and_used_links_get_clear_pages(client: FlaskClient, tokens: list[str]) -> None:
    missing = client.get("/r/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and "could not find this link" in missing.get_data(as_text=True)
    client.post(f"/r/{tokens[0]}", data={"decline": "1"})
    used = client.get(f"/r/{tokens[0]}")
    assert used.status_code == 410 and "can no longer be used" in used.get_data(as_text=True)
    assert client.post(f"/r/{tokens[0]}", data={"decline": "1"}).status_code == 410


form_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    form=st.dictionaries(
        st.sampled_from(
            ["item-wanted", "item-felt_recognised", "item-downsides", "item-x", "comment", "audience", "decline"]
        )
        | form_text,
        st.lists(form_text, max_size=3),
        max_size=6,
    )
)
def test_no_form_a_browser_posts_causes_a_500(client: FlaskClient, tokens: list[str], form: dict[str, Any]) -> None:
    response = client.post(f"/r/{tokens[-1]}", data=form)
    assert response.status_code < 500, response.get_data(as_text=True)
