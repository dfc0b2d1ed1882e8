"""The signed-in pages' front door in a real browser: sign up, land on your groups, sign out."""

from typing import Any

from tests.conftest import inbox
from tests.e2e.conftest import LiveServer, assert_accessible, screenshot, sign_up


def test_a_new_ally_signs_up_and_sees_their_groups(live_server: LiveServer, page: Any) -> None:
    page.goto(live_server.url + "/")
    assert_accessible(page)
    screenshot(page, "home")
    page.get_by_role("link", name="Create an account").click()
    assert_accessible(page)
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Work email").fill("robin@example.org")
    page.get_by_label("Password (at least 10 characters)").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page)
    token = inbox(live_server.app, "robin@example.org", "verify")[-1]  # what the email links to
    page.goto(f"{live_server.url}/verify/{token}")
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_role("heading", name="Welcome, Robin").wait_for()
    assert_accessible(page)
    screenshot(page, "empty-home")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Learn whether your help helped").wait_for()


def test_a_form_posted_without_its_csrf_token_is_refused(live_server: LiveServer, page: Any) -> None:
    response = page.request.post(
        live_server.url + "/sign-up", form={"name": "Mallory", "email": "m@example.org", "password": "x" * 12}
    )
    assert response.status == 400


def test_a_session_cookie_copied_before_sign_out_no_longer_signs_anyone_in(live_server: LiveServer, page: Any) -> None:
    sign_up(page, live_server, "Kim", "kim@example.org")
    copied = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Learn whether your help helped").wait_for()

    thief = page.context.browser.new_context()
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto(live_server.url + "/ally/")
    assert stolen.url.endswith("/sign-in"), "the copied cookie was ended by the sign-out"
    thief.close()
