"""French, end to end: with Accept-Language: fr, every page in its main states reads in French,
and so do the emails sent to those who use it in French.

Each test walks one person's pages (links followed from where they land, forms sent right
and wrong) and flags any English left: page text, button values, placeholders, labels for
screen readers, and the messages the page hands to its scripts. The only English allowed
is what the people typed (names, addresses, group names, summaries, notes), which the
scenario writes in English on purpose so that the check has something to tell apart.
"""

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient

from api.clock import utcnow
from api.extensions import db
from api.jobs.followups import send_reminders
from tests.conftest import Person, Recipient, inbox, make_due, outbox, sso_browser
from tests.integration.test_sso import ALLYLOOP, APP_URL, ProviderUser, oidc
from tests.integration.test_web_lead import csrf, fill_group
from tests.servers import OidcProvider, free_port

# What a French-speaking reader's browser sends.
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5", "HTTP_ACCEPT": "text/html,*/*;q=0.8"}
LEAD = "Lee"  # the name of the conftest lead

# English words that are not also French ones: one of them on a French page is a sentence,
# a label or a button left untranslated. (Not "a", "on", "an", "or", "me", "as", "type",
# "public", "message", "note", "action", "options", "invitation", "invite": French uses them too.)
ENGLISH = frozenset(
    re.findall(
        r"\w+",
        """
        the and you your yours with this that these those is are was were be been being of to for not it its
        they their them have has had will would can could should what when who how which from by at my we
        our us do does did if into only out up yes no all any more here there sign signed back answer
        answers answered link links email emails group groups members member send sent results result
        nothing something someone please thank thanks about after before again than then so but just one
        each every other because while still yet already now see show shows shown ask asked help helped
        helps done create created account password delete remove leave join invited copy save log
        logged kind share shared wanted enough released release suppressed people person lead leads ally
        allies owner follow followup week weeks month months days day
        """,
    )
)

ATTRIBUTES_READ = ("title", "alt", "placeholder", "aria-label", "label")
# Text inside these is not prose: scripts, styles, and code the reader types as it is
# (an HTTP header, an API call).
SKIPPED = ("script", "style", "code")


class _Reader(HTMLParser):
    """The text a reader meets on a page: text nodes, the attributes shown or read aloud,
    button values, and data- attributes (the page's messages for its scripts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.lang: str | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if tag in SKIPPED:
            self._skipping += 1
        self.texts += [values[name] for name in ATTRIBUTES_READ if name in values]
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.texts.append(values.get("value", ""))
        self.texts += [value for name, value in values.items() if name.startswith("data-msg") or name == "data-browser"]
        self.texts += [value for name, value in values.items() if name.startswith("data-") and " " in value]

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.texts.append(data)


def english_left(html: str, typed: Iterable[str]) -> list[str]:
    """Each piece of the page's text that still holds an English word, once what the users
    typed is taken out."""
    reader = _Reader()
    reader.feed(html)
    assert reader.lang == "fr", f"the page says it is in {reader.lang!r}"
    typed = sorted(typed, key=len, reverse=True)  # a longer typed value first: it may hold a shorter one
    found = []
    for text in reader.texts:
        bare = text
        for value in typed:
            bare = bare.replace(value, " ")
        bare = re.sub(r"\S+@\S+", " ", bare)  # addresses are data
        bare = re.sub(r"https?://\S+", " ", bare)  # so are links: a random token can spell "Do" (m4Do4L...)
        bare = re.sub(r"\b(GET|POST|PUT|DELETE) /\S+", " ", bare)  # an API call, written as it is sent
        bare = re.sub(r"\{\w+\}", " ", bare)  # a placeholder the page's script fills in
        words = {word.lower() for word in re.findall(r"[^\W\d_]+", bare)}
        if words & ENGLISH:
            found.append(" ".join(text.split())[:160])
    return found


class Pages:
    """What one French-speaking reader saw, and the English found on it."""

    def __init__(self, client: FlaskClient, typed: Iterable[str]) -> None:
        self.client = client
        self.typed = set(typed)
        self.seen: dict[str, int] = {}
        self.english: dict[str, list[str]] = {}

    def check(self, where: str, response: Any, status: int | None = None) -> str:
        html = response.get_data(as_text=True)
        if status is not None:
            assert response.status_code == status, f"{where}: {response.status_code}"
        assert "Accept-Language" in response.headers.get("Vary", ""), f"{where}: a cache would mix languages"
        self.seen[where] = response.status_code
        left = english_left(html, self.typed)
        if left:
            self.english[where] = left
        return html

    def get(self, url: str, status: int | None = 200) -> str:
        return self.check(f"GET {url}", self.client.get(url, environ_base=FRENCH), status)

    def post(self, url: str, data: dict[str, Any], form_page: str, status: int | None = None) -> str:
        token = csrf(self.client, form_page)
        response = self.client.post(url, data={"csrf_token": token, **data}, environ_base=FRENCH)
        if response.status_code in (302, 303):
            return self.get(urlsplit(response.headers["Location"]).path)
        return self.check(f"POST {url} {sorted(data)}", response, status)

    def crawl(self, *starts: str) -> None:
        """Every page reachable by a link from the starts (same site, not files)."""
        queue = list(starts)
        while queue:
            url = queue.pop(0)
            if url in self.seen or f"GET {url}" in self.seen:
                continue
            response = self.client.get(url, environ_base=FRENCH)
            self.seen[url] = response.status_code
            if response.status_code in (302, 303) or not response.content_type.startswith("text/html"):
                continue
            html = self.check(f"GET {url}", response)
            for href in re.findall(r'href="([^"#]+)', html):
                parts = urlsplit(href)
                if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static/"):
                    continue
                if parts.path not in self.seen:
                    queue.append(parts.path)

    def assert_french(self) -> None:
        report = "\n".join(f"{where}:\n  " + "\n  ".join(texts) for where, texts in self.english.items())
        assert not self.english, f"English left on French pages:\n{report}"


def french_client(app: Flask) -> FlaskClient:
    return app.test_client()


def signed_in(app: Flask, person: Person) -> FlaskClient:
    web = french_client(app)
    token = csrf(web, "/sign-in")
    signed = web.post(
        "/sign-in",
        data={"csrf_token": token, "email": person.email, "password": person.password},
        environ_base=FRENCH,
    )
    assert signed.status_code == 302
    return web


def test_the_front_door_reads_in_french_signed_out(app: Flask) -> None:
    """Home, sign-up (with and without mistakes), confirming, signing in, resetting."""
    pages = Pages(french_client(app), typed=["Robin Hood"])
    pages.crawl("/", "/sign-in", "/sign-up", "/reset-password")
    pages.post("/sign-up", {"name": "", "email": "not an address", "password": "short"}, "/sign-up", 400)
    pages.post("/sign-up", {"name": "Robin Hood", "email": "robin@example.org", "password": "x" * 12}, "/sign-up")
    (token,) = inbox(app, "robin@example.org", "verify")
    pages.get(f"/verify/{token}")
    unknown = "/verify/" + "A" * 22
    pages.post(unknown, {}, unknown, 404)
    pages.post("/sign-in", {"email": "robin@example.org", "password": "x" * 12}, "/sign-in", 403)
    pages.post("/sign-in", {"email": "nobody@example.org", "password": "wrong password"}, "/sign-in", 400)
    pages.post("/sign-in", {"email": "", "password": ""}, "/sign-in", 400)
    pages.post("/reset-password", {"email": ""}, "/reset-password", 400)
    pages.post("/reset-password", {"email": "robin@example.org"}, "/reset-password")
    (reset,) = inbox(app, "robin@example.org", "reset-password")
    pages.get(f"/reset-password/{reset}")
    pages.post(f"/reset-password/{reset}", {"password": "short"}, f"/reset-password/{reset}", 400)
    unknown_reset = "/reset-password/" + "A" * 22
    pages.post(unknown_reset, {"password": "x" * 12}, unknown_reset, 404)
    pages.get("/no-such-page", 404)
    pages.get("/sso/start", None)
    pages.assert_french()
    assert len(pages.seen) >= 15


def test_an_allys_pages_read_in_french(app: Flask, client: FlaskClient, lead: Person) -> None:
    """An ally's groups, a logged action asked about by email and by links, a planned action,
    results, note, account."""
    group = lead.create_group("Women in Engineering")
    ally = Person(client, "Robin")
    lead.add(group, ally)
    summary = "Credited Sam's design in the architecture review"
    action = ally.log_action(group, summary=summary)
    web = signed_in(app, ally)
    pages = Pages(web, typed=["Women in Engineering", summary, ally.email, "Robin", lead.email, LEAD])
    pages.crawl("/", "/ally/", "/ally/results", "/ally/note", "/account/", f"/ally/actions/{action}")
    pages.post("/ally/actions/new", {"summary": ""}, "/ally/actions/new", 400)
    plan = "Suggest Sam for the platform panel"
    pages.typed.add(plan)
    planned = {"group_id": str(group), "kind": "sponsor", "summary": plan, "visibility": "private", "when": "planned"}
    pages.post("/ally/actions/new", planned, "/ally/actions/new")  # the planned action's page
    pages.get("/ally/")
    planned_id = max(int(n) for n in re.findall(r"/ally/actions/(\d+)", pages.get("/ally/")))
    pages.post(f"/ally/actions/{planned_id}/done", {"occurred_on": "2000-01-01"}, f"/ally/actions/{planned_id}", 400)
    pages.typed |= {"kim@example.org, not-an-address", "not-an-address"}  # as the ally typed them
    pages.post(
        f"/ally/actions/{action}/requests",
        {"stage": "immediate", "recipients": "kim@example.org, not-an-address"},
        f"/ally/actions/{action}",
        400,
    )
    pages.post(f"/ally/actions/{action}/requests", {"stage": "immediate", "recipients": "kim@example.org"}, "/ally/")
    pages.post(f"/ally/actions/{action}/links", {"stage": "immediate", "count": "2"}, f"/ally/actions/{action}")
    pages.post("/ally/note", {"note": "Ask first next time."}, "/ally/note")
    pages.typed.add("Ask first next time.")
    pages.get("/ally/note")
    pages.post("/account/password", {"current_password": "wrong one", "new_password": "x" * 12}, "/account/", 400)
    pages.post("/account/tokens", {}, "/account/")
    pages.get("/account/delete")
    pages.post("/account/delete", {"password": "wrong one"}, "/account/delete", 400)
    pages.get("/groups/")
    pages.assert_french()


def test_a_leads_pages_read_in_french_with_results(app: Flask, client: FlaskClient, lead: Person) -> None:
    """A lead's groups, members, invitations, removal, insights with released results, the load
    page; and an ally's results page with results."""
    group = lead.create_group("Women in Engineering")
    allies = fill_group(client, lead, group)
    web = signed_in(app, lead)
    names = ["Ana", "Ben", "Cy", "Dee", "Eli", "Fay", LEAD]
    typed = ["Women in Engineering", lead.email, *names, *(person.email for person in allies)]
    pages = Pages(web, typed=typed + [f'=HYPERLINK("x") note {n}' for n in range(0, 30, 9)])
    pages.crawl("/", "/groups/", f"/groups/{group}", f"/groups/{group}/members")
    pages.post(f"/groups/{group}/members", {"emails": "new@example.org", "role": "ally"}, f"/groups/{group}/members")
    pages.typed.add("not-an-address")  # as the lead typed it
    pages.post(
        f"/groups/{group}/members", {"emails": "not-an-address", "role": "ally"}, f"/groups/{group}/members", 400
    )
    pages.get(f"/groups/{group}/members/{allies[0].id}/remove")
    pages.post("/groups/", {"name": ""}, "/groups/", 400)
    # A second group with only its lead: the empty states.
    empty = lead.create_group("Parents Network")
    pages.typed.add("Parents Network")
    pages.crawl(f"/groups/{empty}", f"/groups/{empty}/members")
    # An ally of the group whose own answers were released: their results page, filled.
    pages.client = signed_in(app, allies[0])
    pages.typed |= {"Ana", allies[0].email}
    results = pages.get("/ally/results")
    pages.assert_french()
    assert pages.seen[f"/groups/{group}"] == pages.seen[f"/groups/{empty}"] == 200, "both insights pages read"
    assert "Commentaires pour vous" in results and "Pas encore assez de réponses" not in results, "results shown"


def test_invitations_read_in_french(app: Flask, client: FlaskClient, lead: Person) -> None:
    """Invited while signed out, signed in as someone else, the right person; expired or unknown."""
    group = lead.create_group("Women in Engineering")
    lead.post(f"/api/v1/groups/{group}/members", {"email": "kim@example.org", "role": "lead"})
    (token,) = inbox(app, "kim@example.org", "invitations")
    other = Person(client, "Robin")
    pages = Pages(french_client(app), typed=["Women in Engineering", "kim@example.org", other.email, "Robin"])
    pages.get(f"/invitations/{token}")
    pages.get("/invitations/" + "A" * 22, 404)
    pages.client = signed_in(app, other)
    pages.get(f"/invitations/{token}", None)
    pages.assert_french()


def test_the_recipient_pages_read_in_french(app: Flask, client: FlaskClient, lead: Person) -> None:
    """The answer page, with its messages for the browser's scripts; answers sent back for a
    second look; the receipt; a used link and an unknown one; follow-up pages on two paths."""
    group = lead.create_group("Women in Engineering")
    ally = Person(client, "Robin")
    lead.add(group, ally)
    summary = "Credited your design in the architecture review"
    action = ally.log_action(group, summary=summary)
    tokens = ally.ask(action, count=2)
    pages = Pages(french_client(app), typed=[summary, "Thanks", "x" * 5000])
    pages.get(f"/r/{tokens[0]}")
    for wrong in ({"item-wanted": "maybe"}, {"comment": "Thanks", "audience": ""}, {"comment": "x" * 5000}):
        sent = pages.client.post(f"/r/{tokens[0]}", data=wrong, environ_base=FRENCH)
        pages.check(f"POST /r/ {sorted(wrong)}", sent, 400)
    pages.check(
        "POST /r/ answer", pages.client.post(f"/r/{tokens[0]}", data={"item-wanted": "yes"}, environ_base=FRENCH), 200
    )
    pages.get(f"/r/{tokens[0]}", 410)
    pages.get("/r/" + "A" * 22, 404)
    Recipient(client).answer(tokens[1], {"wanted": "yes"})
    # Follow-ups, whose questions depend on the path: after credit, and after a process change.
    process = ally.log_action(group, kind="change_process", summary=summary)
    ally.ask(process, count=1)
    for later in (action, process):
        make_due(app, later, "followup_30")
        (followup,) = ally.ask(later, "followup_30", count=1)
        pages.get(f"/r/{followup}")
    pages.assert_french()


def english_in_mail(message: Any, typed: Iterable[str]) -> list[str]:
    """The lines of an email (subject first) that still hold an English word, once what the
    users typed, addresses and links are taken out."""
    found = []
    for line in [str(message["Subject"]), *message.get_content().splitlines()]:
        bare = re.sub(r"https?://\S+", " ", line)
        for value in sorted(typed, key=len, reverse=True):
            bare = bare.replace(value, " ")
        bare = re.sub(r"\S+@\S+", " ", bare)
        if {word.lower() for word in re.findall(r"[^\W\d_]+", bare)} & ENGLISH:
            found.append(line)
    return found


def mails_to(app: Flask, to: str) -> list[Any]:
    return [message for message in outbox(app) if message["To"] == to]


def test_emails_go_out_in_french_to_those_who_use_it_in_french(app: Flask, client: FlaskClient) -> None:
    """Sign-up confirmation and reset (the reader's browser), invitations (the lead's), the
    links mailed to colleagues and the follow-up reminders (the language the ally last
    signed in with), each in French, with its days written the French way."""
    front = Pages(french_client(app), typed=[])
    front.post("/sign-up", {"name": "Robin Hood", "email": "robin@example.org", "password": "x" * 12}, "/sign-up")
    (confirm,) = mails_to(app, "robin@example.org")
    front.post("/reset-password", {"email": "robin@example.org"}, "/reset-password")
    reset = mails_to(app, "robin@example.org")[-1]

    lead = Person(client, LEAD)
    group = lead.create_group("Women in Engineering")
    robin = Person(client, "Robin")
    lead_web = signed_in(app, lead)  # the lead uses Allyloop in French
    form = f"/groups/{group}/members"
    lead_web.post(
        form,
        data={"csrf_token": csrf(lead_web, form), "emails": robin.email, "role": "ally"},
        environ_base=FRENCH,
    )
    (invitation,) = mails_to(app, robin.email)[-1:]
    assert robin.post(f"/api/v1/invitations/{inbox(app, robin.email, 'invitations')[-1]}", {}).status_code == 200

    signed_in(app, robin)  # Robin signs in once in French; the emails sent for Robin follow
    summary = "Credited Sam's design in the architecture review"
    action = robin.log_action(group, summary=summary)
    robin.ask_by_email(action, ["kim@example.org"])
    (link,) = mails_to(app, "kim@example.org")
    make_due(app, action, "followup_30")
    with app.app_context():
        assert send_reminders(db.session, now=utcnow()) == 1
    reminder = mails_to(app, robin.email)[-1]

    typed = ["Robin Hood", "Robin", LEAD, "Women in Engineering", summary, "Allyloop"]
    for name, message in [
        ("confirmation", confirm),
        ("reset", reset),
        ("invitation", invitation),
        ("link", link),
        ("reminder", reminder),
    ]:
        assert not english_in_mail(message, typed), f"English in the {name} email: {english_in_mail(message, typed)}"
    expires = format_date(utcnow().date() + timedelta(days=app.config["ALLYLOOP"].link_days), "long", locale="fr")
    assert f"jusqu'au {expires}" in link.get_content(), "the link's last day, as French writes it"
    assert "Il est temps de faire le suivi" in str(reminder["Subject"])


def test_emails_stay_english_for_those_who_never_chose_french(app: Flask, client: FlaskClient, lead: Person) -> None:
    """English is the default: an ally who signs in with an English browser (or only uses
    the API) gets English emails, and so do the colleagues they ask."""
    group = lead.create_group()
    robin = Person(client, "Robin")
    lead.add(group, robin)
    english = app.test_client()
    token = csrf(english, "/sign-in")
    english.post(
        "/sign-in",
        data={"csrf_token": token, "email": robin.email, "password": robin.password},
        environ_base={"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9,fr;q=0.5"},
    )
    action = robin.log_action(group)
    robin.ask_by_email(action, ["kim@example.org"])
    (link,) = mails_to(app, "kim@example.org")
    assert str(link["Subject"]).startswith("Did Robin")


def test_an_account_without_a_password_deletes_itself_with_french_words(app: Flask) -> None:
    """Someone who signs in through their organisation types the confirmation in French, as
    the French page asks; the English words still work (as the API asks for them)."""
    web = sso_browser(app, "camille@example.org", "Camille")
    pages = Pages(web, typed=["Camille", "camille@example.org"])
    page = pages.get("/account/delete")
    assert "«\u00a0supprimer mon compte\u00a0»" in page, "the words to type, in French"
    pages.post("/account/delete", {"confirm": "delete everything"}, "/account/delete", 400)
    pages.post("/account/delete", {"confirm": "Supprimer mon compte "}, "/account/delete")
    assert "GET /account/deleted" in pages.seen
    pages.assert_french()


def test_the_development_outbox_reads_in_french(make_app: Any) -> None:
    """On a developer's machine (no MAIL_URL): the outbox, and an email opened in it."""
    app = make_app(public_base_url="http://localhost:5000")
    client = app.test_client()
    Person(client, "Robin")  # a confirmation email (in English: Robin signed up with the API) lands in the outbox
    (sent,) = outbox(app)
    email = [str(sent["Subject"]), *sent.get_content().splitlines()]  # the email as it was sent is data here
    pages = Pages(french_client(app), typed=["Robin", *(line for line in email if line.strip())])
    listing = pages.get("/dev/outbox")
    opened = re.findall(r'href="(/dev/outbox/[^"]+)"', listing)
    assert opened, "the outbox lists the email"
    pages.get(opened[0])
    pages.assert_french()


def visible_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    return " ".join(reader.texts)


def test_the_first_of_a_month_reads_1er_in_french(app: Flask, client: FlaskClient, lead: Person) -> None:
    """French writes "1er décembre", not "1 décembre": on the ally's pages and on the
    recipient's; English keeps "December 1"; other days stay plain numbers."""
    group = lead.create_group()
    ally = Person(client, "Robin")
    lead.add(group, ally)
    first = utcnow().date().replace(day=1)
    body = {"group_id": group, "kind": "credit", "summary": "Credited Sam", "occurred_on": first.isoformat()}
    created = ally.post("/api/v1/actions", {**body, "visibility": "public"})
    assert created.status_code == 201
    action = created.get_json()["id"]
    (token,) = ally.ask(action, count=1)
    month = format_date(first, "MMMM", locale="fr")

    web = signed_in(app, ally)
    action_page = visible_text(web.get(f"/ally/actions/{action}", environ_base=FRENCH).get_data(as_text=True))
    assert f"1er {month} {first.year}" in action_page
    home = visible_text(web.get("/ally/", environ_base=FRENCH).get_data(as_text=True))
    assert f"1er {format_date(first, 'MMM', locale='fr')}" in home, "the short form too"
    recipient_page = visible_text(client.get(f"/r/{token}", environ_base=FRENCH).get_data(as_text=True))
    assert f"1er {month} {first.year}" in recipient_page
    english = client.get(f"/r/{token}", environ_base={"HTTP_ACCEPT_LANGUAGE": "en"}).get_data(as_text=True)
    assert format_date(first, "MMMM d, y", locale="en") in english and "1er" not in english
    assert not re.search(rf"\b1 {month}", action_page + recipient_page)


def test_percentages_and_means_read_the_french_way(app: Flask, client: FlaskClient, lead: Person) -> None:
    """On the lead's insights and the ally's results: "67 %" with a no-break space (a
    percentage never splits across lines, never "67%"), and means with a decimal comma; the
    English pages keep "67%" and "3.5"."""
    group = lead.create_group("Women in Engineering")
    allies = fill_group(client, lead, group)
    pages = {
        "insights": (signed_in(app, lead), f"/groups/{group}"),
        "results": (signed_in(app, allies[0]), "/ally/results"),
    }
    for name, (web, url) in pages.items():
        french = visible_text(web.get(url, environ_base=FRENCH).get_data(as_text=True))
        assert re.search(r"\d\u00a0%", french), f"{name}: a percentage, written the French way"
        assert not re.search(r"\d ?%", french), f"{name}: a percentage written the English way"
        english = visible_text(web.get(url, environ_base={"HTTP_ACCEPT_LANGUAGE": "en"}).get_data(as_text=True))
        assert re.search(r"\d%", english) and not re.search(r"\d\u00a0%", english), name
    insights = visible_text(pages["insights"][0].get(pages["insights"][1], environ_base=FRENCH).get_data(as_text=True))
    assert re.search(r"\d,\d sur 5", insights) and not re.search(r"\d\.\d sur 5", insights), "means: 3,5 sur 5"


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OidcProvider]:
    """The organisation's OpenID Provider (tests/oidc), in its own process."""
    provider = OidcProvider(tmp_path / "provider.log", [ALLYLOOP])
    provider.start()
    yield provider
    provider.stop()


def test_single_sign_on_and_its_failure_pages_read_in_french(make_app: Any, provider: OidcProvider) -> None:
    """The organisation's sign-in button, and the page for each way that sign-in fails:
    cancelled at the provider, finished in another browser, an address the provider has not
    verified or outside the organisation, the provider out of reach."""
    app = make_app(**oidc(provider.issuer))
    pages = Pages(french_client(app), typed=["example.org"])
    pages.crawl("/", "/sign-in")
    assert 'href="/sso/start' in pages.get("/sign-in"), "the organisation's sign-in is offered"

    def at_provider() -> tuple[FlaskClient, str]:
        """A French browser sent to the provider: it and the provider's sign-in address."""
        browser = french_client(app)
        started = browser.get("/sso/start", environ_base=FRENCH)
        assert started.status_code == 302
        return browser, started.headers["Location"]

    def back(browser: FlaskClient, callback: str, status: int) -> None:
        """The browser back at Allyloop from the provider: the page it lands on."""
        assert callback.startswith(APP_URL + "/sso/callback?"), callback
        pages.client = browser
        pages.get(callback.removeprefix(APP_URL), status)

    browser, signing_in = at_provider()
    back(browser, ProviderUser("ana").cancel(signing_in), 400)
    for login in ("unverified", "outsider"):
        browser, signing_in = at_provider()
        back(browser, ProviderUser(login).authorize(signing_in), 403)
    _, signing_in = at_provider()
    back(french_client(app), ProviderUser("ana").authorize(signing_in), 400)  # another browser's sign-in
    pages.client = french_client(make_app(**oidc(f"http://127.0.0.1:{free_port()}")))
    pages.get("/sso/start", 502)  # nothing answers at the issuer
    pages.assert_french()
    failures = [where for where, status in pages.seen.items() if "/sso/" in where and status >= 400]
    assert len(failures) == 5, failures


@pytest.mark.parametrize(
    ("language", "many", "one", "none"),
    [("en", "1,234 links", "1 link", "0 links"), ("fr", "1\u202f234 liens", "1 lien", "0 lien")],
)
def test_counts_are_written_as_the_readers_language_writes_numbers(
    app: Flask, language: str, many: str, one: str, none: str
) -> None:
    """At a real ERG's size counts pass a thousand: "1,234" in English, "1 234" in French (a
    narrow no-break space), in templates and views alike; the plural form follows the number
    (French says "0 lien"), and the CSV keeps the bare number."""
    from flask import render_template_string

    from api.i18n import ngettext
    from web.insights import count

    template = '{{ ngettext("%(num)s link", "%(num)s links", n) }}'
    with app.test_request_context(headers={"Accept-Language": language}):
        assert [render_template_string(template, n=n) for n in (1234, 1, 0)] == [many, one, none]
        assert [ngettext("%(num)s link", "%(num)s links", n) for n in (1234, 1, 0)] == [many, one, none]
        written = many.split(" l")[0]
        assert render_template_string("{{ n|number }}", n=1234) == written, "a count a table shows alone"
        cell = count(1234)
        assert cell.text == written and cell.csv == "1234"
