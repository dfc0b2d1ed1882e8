"""The recipient page /r/{token} in a real browser: sealed in the browser with JavaScript, sealed by the
server without it, fail-closed when sealing or sending breaks, clear 404/410 pages, no cookies, no
third parties, accessible at every step."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api import commit, sqlite
from api.extensions import db
from crypto.encoding import b64u_decode
from feedback.models import Response
from tests.conftest import Person, Recipient, make_due
from tests.e2e.conftest import PHONE, LiveServer, assert_accessible, screenshot

SUMMARY = "Asked Dana to present her own results"
COMMENT = "The rhubarb meeting went better after that"  # a word no envelope may carry in plain text
OTHERS = {"wanted": "yes", "felt_recognised": 3}


class Loop:
    """An ally with five links, a lead, and a way to answer the other links like a script would."""

    def __init__(self, server: LiveServer) -> None:
        client = server.app.test_client()
        self.server = server
        self.lead, self.ally = Person(client, "Lee"), Person(client, "Alex")
        group = self.lead.create_group()
        self.lead.add(group, self.ally)
        self.tokens = self.ally.ask(self.ally.log_action(group, summary=SUMMARY), count=5)
        self.recipient = Recipient(client)

    def url(self, token: str) -> str:
        return f"{self.server.url}/r/{token}"

    def answer_the_rest(self, used: int) -> None:
        for token in self.tokens[used:]:
            assert self.recipient.answer(token, OTHERS).status_code == 202

    def released(self) -> dict[str, Any]:
        response = self.ally.get("/api/v1/me/feedback")
        assert response.status_code == 200
        return dict(response.get_json()["released"])


class Traffic:
    """Every request and response a page makes, to check what left the browser."""

    def __init__(self, page: Any) -> None:
        page.set_default_timeout(10_000)
        self.requests: list[Any] = []
        self.responses: list[Any] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", lambda response: self.responses.append(response))

    def posts(self) -> list[Any]:
        return [request for request in self.requests if request.method == "POST"]

    def assert_private(self, origin: str) -> None:
        """Nothing went to another origin; no response set a cookie; every one says no-referrer."""
        assert self.requests and all(request.url.startswith(origin + "/") for request in self.requests)
        for response in self.responses:
            headers = response.all_headers()
            assert "set-cookie" not in headers, response.url
            assert headers.get("referrer-policy") == "no-referrer", response.url
            assert headers.get("cache-control") == "no-store", response.url


@pytest.fixture
def loop(live_server: LiveServer) -> Loop:
    return Loop(live_server)


@pytest.fixture
def js_page(page: Any) -> Iterator[Any]:
    yield page
    assert page.context.cookies() == [], "the recipient page never leaves a cookie"


def open_answer_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("form[data-sealing=browser]", state="attached")  # seal.js is ready


def write_comment(page: Any, text: str) -> None:
    """The comment box is folded away until opened: the page stays short for those who write none."""
    comment = page.get_by_label("Is there one thing that would have made it more useful?")
    if not comment.is_visible():
        page.get_by_text("Is there one thing that would have made it more useful?").first.click()
    comment.fill(text)


def fill_answers(page: Any) -> None:
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_label("Partly").check()
    scale = page.get_by_role("group", name="Did it help others see you as capable?")
    scale.get_by_label("4", exact=True).check()
    page.get_by_role("group", name="Does speaking up feel safer because of it?").get_by_label("2", exact=True).check()
    downsides = page.get_by_role("group", name="Did it have any downsides for you? Choose any that apply.")
    downsides.get_by_label("Someone spoke for me when I would rather have spoken myself").check()
    write_comment(page, COMMENT)


def test_with_javascript_only_a_sealed_envelope_leaves_the_browser_and_the_server_opens_it(
    loop: Loop, js_page: Any
) -> None:
    page, traffic = js_page, Traffic(js_page)
    open_answer_page(page, loop.url(loop.tokens[0]))
    assert page.get_by_text(SUMMARY).is_visible()
    assert_accessible(page)
    screenshot(page, "recipient-answer")
    fill_answers(page)
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="Send my answer").click()
    request = posted.value
    assert request.url == f"{loop.server.url}/api/v1/answer/{loop.tokens[0]}"
    body = json.loads(request.post_data)
    assert set(body) == {"kid", "sealed"}
    # The envelope is base64url of random-looking bytes, so a short word can turn up in its text by
    # chance; what must never be there is the answer itself, in the bytes the browser sent.
    sealed = b64u_decode(body["sealed"])
    for plain in (b"rhubarb", b'"partly"', b'"spoken_for"', b'"both"', b'"seen_capable"'):
        assert plain not in sealed, plain
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.locator("[data-receipt]").inner_text().strip()
    assert_accessible(page)
    screenshot(page, "recipient-sent-in-page")
    assert len(traffic.posts()) == 1
    traffic.assert_private(loop.server.url)

    loop.answer_the_rest(used=1)  # k = 5: the fifth answer releases the cohort
    view = loop.released()
    assert view["responses"] == 5
    items = view["items"]["immediate.v1"]
    assert items["wanted"]["counts"] == {"yes": 4, "partly": 1}
    assert items["downsides"]["counts"]["spoken_for"] == 1
    assert view["comments"] == [COMMENT], "the server opened the browser's envelope and read its comment"


def test_declining_with_javascript_sends_a_sealed_empty_answer(loop: Loop, js_page: Any) -> None:
    page = js_page
    open_answer_page(page, loop.url(loop.tokens[0]))
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_label("Yes").check()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="I'd rather not answer").first.click()  # the one at the top
    assert set(json.loads(posted.value.post_data)) == {"kid", "sealed"}
    page.get_by_role("heading", name="Thank you").wait_for()
    loop.answer_the_rest(used=1)
    view = loop.released()
    assert view["questionnaires"]["immediate.v1"]["declined"] == 1
    assert view["items"]["immediate.v1"]["wanted"]["counts"] == {"yes": 4}, "the checked answer was not sent"


def test_a_comment_without_an_audience_is_not_sent_until_one_is_chosen(loop: Loop, js_page: Any) -> None:
    page, traffic = js_page, Traffic(js_page)
    open_answer_page(page, loop.url(loop.tokens[0]))
    write_comment(page, COMMENT)
    page.get_by_role("button", name="Send my answer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Choose who may read your comment" in alert.inner_text()
    assert traffic.posts() == []
    assert_accessible(page)
    screenshot(page, "recipient-choose-audience")
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Nobody").check()
    with page.expect_request(lambda request: request.method == "POST"):
        page.get_by_role("button", name="Send my answer").click()
    page.get_by_role("heading", name="Thank you").wait_for()


def test_every_problem_shows_at_once_beside_its_field_with_a_summary_that_links_to_it(loop: Loop, js_page: Any) -> None:
    page, traffic = js_page, Traffic(js_page)
    open_answer_page(page, loop.url(loop.tokens[0]))
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_label("Yes").check()
    downsides = page.get_by_role("group", name="Did it have any downsides for you?")
    downsides.get_by_label("It drew attention I didn't want").check()
    downsides.get_by_label("No downsides").check()
    write_comment(page, COMMENT)  # and no audience chosen
    page.get_by_role("button", name="Send my answer").click()
    summary = page.locator("#form-problems")
    summary.wait_for()
    links = summary.get_by_role("link")
    assert links.count() == 2, "both problems at once, not one at a time"
    assert "Did it have any downsides for you?" in links.nth(0).inner_text()
    assert "Choose who may read your comment" in links.nth(1).inner_text()
    assert downsides.locator(".error").inner_text().startswith("“No downsides” cannot be combined")
    audience = page.get_by_role("group", name="If you write a comment, who may read it?")
    assert "Choose who may read your comment" in audience.locator(".error").inner_text()
    assert traffic.posts() == []
    assert_accessible(page)
    screenshot(page, "recipient-errors-at-once")
    links.nth(1).click()
    assert page.evaluate("document.activeElement.name") == "audience"
    downsides.get_by_label("It drew attention I didn't want").uncheck()
    audience.get_by_label("Nobody").check()
    with page.expect_request(lambda request: request.method == "POST"):
        page.get_by_role("button", name="Send my answer").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.locator("[data-js-error]").count() == 0


@pytest.mark.parametrize("stage", ["immediate", "followup_30"])
@pytest.mark.parametrize("kind", ["credit", "mentor", "connect", "change_process"])  # one kind per path
def test_on_a_phone_send_is_within_three_screens(live_server: LiveServer, page: Any, kind: str, stage: str) -> None:
    client = live_server.app.test_client()
    lead, ally = Person(client, "Lee"), Person(client, "Alex")
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group, kind=kind, summary=SUMMARY)
    if stage != "immediate":
        ally.ask(action, count=1)
        make_due(live_server.app, action, stage)
    (token,) = ally.ask(action, stage, count=1)
    page.set_viewport_size(PHONE)
    open_answer_page(page, f"{live_server.url}/r/{token}")
    send = page.get_by_role("button", name="Send my answer").bounding_box()
    assert send is not None
    ends = send["y"] + send["height"]
    assert ends <= 3 * PHONE["height"], f"{kind}, {stage}: Send ends at {ends} px"


def test_the_progress_counts_the_questions_answered(loop: Loop, js_page: Any) -> None:
    page = js_page
    open_answer_page(page, loop.url(loop.tokens[0]))
    progress = page.locator("#progress")
    assert "7 questions" in progress.inner_text()
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_label("Yes").check()
    page.get_by_role("group", name="Does speaking up feel safer because of it?").get_by_label("3", exact=True).check()
    assert "2 of 7 answered" in progress.inner_text()
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_role("button").click()
    assert "1 of 7 answered" in progress.inner_text()


def test_an_answer_can_be_cleared_so_every_question_stays_skippable(loop: Loop, js_page: Any) -> None:
    page = js_page
    open_answer_page(page, loop.url(loop.tokens[0]))
    group = page.get_by_role("group", name="Was this kind of help something you wanted?")
    group.get_by_label("No", exact=True).check()
    group.get_by_role("button", name="Clear this answer").click()
    assert not group.get_by_label("No", exact=True).is_checked()
    assert group.get_by_role("button", name="Clear this answer").is_hidden()


BROKEN_SEAL = """window.AllyloopSeal = Object.freeze({
  supported: async () => true,
  sealAnswer: async () => { throw new Error("sealing broke"); },
});"""


@pytest.mark.parametrize("breakage", ["broken seal.js", "wrong public key", "network down"])
def test_when_sealing_or_sending_fails_nothing_plain_is_sent_and_the_person_is_told(
    loop: Loop, js_page: Any, breakage: str
) -> None:
    page, traffic = js_page, Traffic(js_page)
    if breakage == "broken seal.js":
        page.route("**/static/seal.js", lambda route: route.fulfill(body=BROKEN_SEAL, content_type="text/javascript"))
    if breakage == "network down":
        page.route("**/api/v1/answer/**", lambda route: route.abort())
    open_answer_page(page, loop.url(loop.tokens[0]))
    if breakage == "wrong public key":
        page.locator("#answer-form").evaluate("form => form.setAttribute('data-public-key', 'AAAA')")
    fill_answers(page)
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    page.get_by_role("button", name="Send my answer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "nothing was sent" in alert.inner_text().lower() or "nothing was sent unsealed" in alert.inner_text()
    page.wait_for_timeout(300)  # give any fallback submission time to show itself
    posts = traffic.posts()
    assert all(post.url.endswith(f"/api/v1/answer/{loop.tokens[0]}") for post in posts), "no plain form post"
    assert all(set(json.loads(post.post_data)) == {"kid", "sealed"} for post in posts)
    assert all("rhubarb" not in (request.post_data or "") for request in traffic.requests)
    assert len(posts) == (1 if breakage == "network down" else 0)
    assert page.get_by_role("button", name="Send my answer").is_enabled(), "the person can try again"
    assert_accessible(page)
    screenshot(page, f"recipient-failed-{breakage.replace(' ', '-').replace('.', '-')}")
    assert loop.server.app.test_client().get(f"/r/{loop.tokens[0]}").status_code == 200, "the link is unspent"


THROWING_SEAL = """window.AllyloopSeal = Object.freeze({
  supported: () => { throw new Error("detection broke"); },
  sealAnswer: async () => "AAAA",
});"""


@pytest.mark.parametrize("breakage", ["seal.js missing", "support check throws"])
def test_when_seal_js_is_missing_or_broken_nothing_is_sent_at_all(loop: Loop, js_page: Any, breakage: str) -> None:
    page, traffic = js_page, Traffic(js_page)
    if breakage == "seal.js missing":
        page.route("**/static/seal.js", lambda route: route.fulfill(status=404))
    else:
        page.route("**/static/seal.js", lambda route: route.fulfill(body=THROWING_SEAL, content_type="text/javascript"))
    page.goto(loop.url(loop.tokens[0]))
    page.wait_for_selector("form[data-sealing=broken]", state="attached")  # answer.js ran and gave up on sealing
    fill_answers(page)
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    page.get_by_role("button", name="Send my answer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "could not seal your answer, so nothing was sent" in alert.inner_text()
    page.wait_for_timeout(300)  # give any fallback submission time to show itself
    assert traffic.posts() == [], "neither the plain form nor anything else was posted"
    assert all("rhubarb" not in (request.post_data or "") for request in traffic.requests)
    assert page.get_by_role("button", name="Send my answer").is_enabled(), "the person can reload and try again"
    assert_accessible(page)
    client = loop.server.app.test_client()
    assert client.get(f"/r/{loop.tokens[0]}").status_code == 200, "the link is unspent"
    assert loop.recipient.answer(loop.tokens[0], OTHERS).status_code == 202, "a later real answer still counts"


def slow_support_check(supported: str) -> str:
    """The real seal.js with a support check that settles only when the test calls window.settleCheck()."""
    return f"""
(function () {{
  const real = window.AllyloopSeal;
  let settle;
  const gate = new Promise((resolve) => {{ settle = resolve; }});
  window.settleCheck = () => settle();
  window.AllyloopSeal = Object.freeze(Object.assign({{}}, real, {{
    supported: async () => {{ await gate; return {supported} ? real.supported() : false; }},
  }}));
}})();"""


@pytest.mark.parametrize("supported", [True, False])
def test_a_send_before_the_support_check_settles_waits_for_it(loop: Loop, js_page: Any, supported: bool) -> None:
    """A click on Send while detection is still running never posts the plain form when sealing works;
    where X25519 is missing it then posts the plain form, the documented fallback."""
    page, traffic = js_page, Traffic(js_page)

    def slow(route: Any) -> None:
        original = route.fetch()
        body = original.text() + slow_support_check("true" if supported else "false")
        route.fulfill(response=original, body=body)

    page.route("**/static/seal.js", slow)
    page.goto(loop.url(loop.tokens[0]))
    fill_answers(page)
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    assert page.locator("#answer-form").get_attribute("data-sealing") is None, "the check is still running"
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_timeout(300)
    assert traffic.posts() == [], "the send waits for the check"
    assert page.locator("#answer-form").get_attribute("aria-busy") == "true"
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.evaluate("window.settleCheck()")
    request = posted.value
    if supported:
        assert request.url == f"{loop.server.url}/api/v1/answer/{loop.tokens[0]}"
        assert set(json.loads(request.post_data)) == {"kid", "sealed"}
        assert "rhubarb" not in request.post_data
    else:
        assert request.url == loop.url(loop.tokens[0]), "no X25519: the plain form posts and the server seals"
    page.get_by_role("heading", name="Thank you").wait_for()
    assert len(traffic.posts()) == 1
    loop.answer_the_rest(used=1)
    assert loop.released()["comments"] == [COMMENT]


def test_declining_before_the_check_settles_without_x25519_still_declines(loop: Loop, js_page: Any) -> None:
    page = js_page

    def slow(route: Any) -> None:
        original = route.fetch()
        route.fulfill(response=original, body=original.text() + slow_support_check("false"))

    page.route("**/static/seal.js", slow)
    page.goto(loop.url(loop.tokens[0]))
    page.get_by_role("group", name="Was this kind of help something you wanted?").get_by_label("Yes").check()
    page.get_by_role("button", name="I'd rather not answer").last.click()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.evaluate("window.settleCheck()")
    assert "decline=1" in (posted.value.post_data or "")
    page.get_by_role("heading", name="Thank you").wait_for()
    loop.answer_the_rest(used=1)
    view = loop.released()
    assert view["questionnaires"]["immediate.v1"]["declined"] == 1
    assert view["items"]["immediate.v1"]["wanted"]["counts"] == {"yes": 4}, "the checked answer was not sent"


def test_without_javascript_the_form_posts_and_the_server_seals(loop: Loop, page_without_js: Any) -> None:
    page, traffic = page_without_js, Traffic(page_without_js)
    page.goto(loop.url(loop.tokens[0]))
    screenshot(page, "recipient-answer-no-js")
    fill_answers(page)
    page.get_by_role("button", name="Send my answer").click()  # no audience chosen: sent back, not guessed
    assert "Choose who may read your comment" in page.get_by_role("alert").inner_text()
    screenshot(page, "recipient-no-js-needs-a-look")
    # Nothing typed or chosen was lost: only the audience is left to choose.
    assert (
        page.get_by_role("group", name="Was this kind of help something you wanted?")
        .get_by_label("Partly")
        .is_checked()
    )
    assert page.get_by_label("Is there one thing that would have made it more useful?").input_value() == COMMENT
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.get_by_text("Receipt:").is_visible()
    screenshot(page, "recipient-receipt-no-js")
    assert [post.url for post in traffic.posts()] == [loop.url(loop.tokens[0])] * 2
    traffic.assert_private(loop.server.url)
    assert page.context.cookies() == []
    loop.answer_the_rest(used=1)
    assert loop.released()["comments"] == [COMMENT]


def test_the_server_rendered_states_are_accessible(loop: Loop, js_page: Any) -> None:
    """The no-JavaScript form, its "needs a second look" state and its receipt pass axe.

    axe needs JavaScript, so the page's own scripts are blocked instead: it then behaves as without them.
    """
    page = js_page
    page.route("**/static/*.js", lambda route: route.abort())
    page.goto(loop.url(loop.tokens[0]))
    assert page.locator("form[data-sealing]").count() == 0, "the page's scripts did not run"
    assert_accessible(page)
    write_comment(page, COMMENT)
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="I'd rather not answer").last.click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(page)


def test_unknown_and_spent_links_get_clear_pages(loop: Loop, js_page: Any) -> None:
    page, traffic = js_page, Traffic(js_page)
    missing = page.goto(f"{loop.server.url}/r/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status == 404
    page.get_by_role("heading", name="We could not find this link").wait_for()
    assert_accessible(page)
    screenshot(page, "recipient-404")
    loop.recipient.answer(loop.tokens[0], {})
    gone = page.goto(loop.url(loop.tokens[0]))
    assert gone.status == 410
    page.get_by_role("heading", name="This link can no longer be used").wait_for()
    assert_accessible(page)
    screenshot(page, "recipient-410")
    traffic.assert_private(loop.server.url)


def test_a_link_spent_elsewhere_while_the_page_is_open_says_so(loop: Loop, js_page: Any) -> None:
    page = js_page
    open_answer_page(page, loop.url(loop.tokens[0]))
    loop.recipient.answer(loop.tokens[0], {})  # e.g. answered in another tab
    page.get_by_role("button", name="Send my answer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "can no longer be used" in alert.inner_text()


class BusyOnce(commit.Committer):
    """A committer whose first write fails as a saturated database makes it: nothing stored,
    and the request answers 503 with Retry-After."""

    def __init__(self, path: str) -> None:
        super().__init__(lambda: sqlite.connect(path, shared=True), Path(path + ".busy"))
        self.refused = 0

    def write(self, write: Any) -> Any:
        if not self.refused:
            self.refused += 1
            raise commit.Stopped("busy for a moment")
        return super().write(write)


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Response)) or 0


def test_a_busy_moment_is_retried_by_the_page_and_the_answer_counts_once(loop: Loop, js_page: Any) -> None:
    """When a whole company answers at once the database may refuse for a moment (503, nothing
    stored, Retry-After): the page says so and sends the same sealed answer again by itself."""
    app = loop.server.app
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("the committer is the embedded default's (SQLite) way to the synced commit")
    busy = BusyOnce(url.database or "")
    commit.install(app, busy)
    page, traffic = js_page, Traffic(js_page)
    open_answer_page(page, loop.url(loop.tokens[0]))
    fill_answers(page)
    page.get_by_role("group", name="If you write a comment, who may read it?").get_by_label("Both").check()
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Many people are answering right now").wait_for()
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)  # after the server's Retry-After
    posts = traffic.posts()
    assert [json.loads(post.post_data) for post in posts[1:]] == [json.loads(posts[0].post_data)], (
        "the same sealed envelope, sent once more"
    )
    assert busy.refused == 1 and stored(app) == 1
    assert page.get_by_role("alert").is_hidden(), "the passing message goes with the receipt"
    busy.close()


def test_a_service_busy_past_every_retry_tells_the_person_and_keeps_the_link(loop: Loop, js_page: Any) -> None:
    page, traffic = js_page, Traffic(js_page)
    page.route(
        "**/api/v1/answer/**",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "0", "Content-Type": "application/json"},
            body=json.dumps({"error": {"code": "unavailable", "message": "the service is busy"}}),
        ),
    )
    open_answer_page(page, loop.url(loop.tokens[0]))
    page.get_by_role("button", name="I'd rather not answer").first.click()
    page.get_by_text("so nothing was stored. Please wait a minute and send again.").wait_for()
    assert len(traffic.posts()) == 4, "sent once, then three more times"
    assert page.get_by_role("button", name="Send my answer").is_enabled(), "the person can try again"
    assert_accessible(page)
    assert loop.server.app.test_client().get(f"/r/{loop.tokens[0]}").status_code == 200, "the link is unspent"
