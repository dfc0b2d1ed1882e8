"""An employee resource group over six months, run through the real code: what does each person see?

``python bench/erg.py`` (or ``make erg``) from the repository root; ``--help`` for the knobs.
Loopback only: the app runs in this process on a throwaway SQLite database, and the
pages are measured in Debian's Chromium through Playwright, served on 127.0.0.1.

What is simulated (issue 14), per group of N allies and one lead, from day 0 to ``--days``:

- every account signs up (202, then the verification link from its email), allies join by
  the lead's invitation (the email's link), all through the JSON API;
- each ally logs an action about every two weeks (14 days, give or take 2), its path
  chosen evenly among the four (signaling, interpersonal, access, structural), then a kind
  of that path; 60 % public. They ask 3 colleagues from their own circle of 8 (circles
  are drawn from one pool of colleagues, so they overlap) by delivered request; each
  colleague's token is read from the email the app sends (the development outbox);
- each colleague answers with probability 1/2, at a random moment within 7 days, with a
  random answer valid for the questionnaire, sealed as a browser seals it;
- 30 and 90 days after the immediate request the follow-up comes due; the ally asks for
  it (the same 3 colleagues) within a week of the due day, for 2 actions in 3;
- releases run on the tick: the release interval of the settings (10 minutes), at every
  tick after which an answer arrived, and a sweep of everything due once a day.

Time is the simulator's: ``api.clock.utcnow`` (where the API and the pages read it) is
replaced in this process only, and jobs get the same ``now``.

What is measured at each checkpoint day (30, 90, 180):

- **figures**: on the lead's insights page (``/groups/<id>``, fetched signed in),
  a *figure* is one non-empty table cell (``<td>``) of a table in ``<figure
  class="insight">``; the bar charts repeat their table's values and are not counted.
  A figure is a *number* when its text starts with a digit ("12", "45%", "3.1 of 5") and
  it is not marked ``class="suppressed"``; every other figure is a *placeholder*
  ("hidden by the release rules", "not enough yet", "no answers"). A table's one line on the
  cells it hides (``<p class="hidden-cells">``, "Not shown yet: 3 kinds of action ...") is
  one placeholder, however many cells it names: it is what the page shows in their place.
  Empty cells (the blank beside a scale's mean) are no figures. **share** is numbers / figures over what the
  page shows open, outside ``<details>``; **share incl. folded** counts the folded
  questions too. A page with nothing released has no figures: its share is 0.
- **median ally's first results**: the day on which the median ally (the ⌈N/2⌉-th
  earliest) first saw released responses in ``GET /api/v1/me/feedback``; "-" if fewer
  than half have by the checkpoint.
- **screens**: the document height of a page at 390 x 844 in headless Chromium, divided
  by 844: the lead's insights page as it loads (details folded), and the recipient page
  ``/r/<token>`` of an unanswered immediate link.

And it checks, against its own ground truth of who answered what (which ally asked which
colleague, about which kind of action), that every released cohort and every cell a
cohort shows has at least k distinct recipients from the scope's minimum of allies (2
for the group, and still so with any one ally's answers taken away: P3, P5, P8); and
that every number in the page's slice, "does it last?", overview, trend and load tables
is at least k and is what those checked cohorts add up to. Any breach fails the run.
"""

import argparse
import contextlib
import email.policy
import heapq
import itertools
import json
import math
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import random  # noqa: E402 - the simulation's own dice, seeded

from flask import Flask  # noqa: E402 - after the path fix, so `bench/erg.py` works from anywhere
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

import api.clock  # noqa: E402
from api import create_app  # noqa: E402
from api.config import Settings  # noqa: E402
from api.extensions import db  # noqa: E402
from api.jobs.deliver import send_letters_now  # noqa: E402
from api.jobs.release import run_due_now  # noqa: E402
from bench import envelopes  # noqa: E402
from crypto import keyring  # noqa: E402
from feedback import kinds  # noqa: E402
from feedback.models import Cohort, Scope  # noqa: E402
from feedback.services import keys  # noqa: E402

K = 5
START = date(2025, 1, 6)  # a Monday; any day works
CHECKPOINTS = (30, 90, 180)
ASKED = 3  # colleagues asked per action
CIRCLE = 8  # colleagues each ally works with
POOL_PER_ALLY = 4  # the pool the circles are drawn from: this many colleagues per ally
EVERY_DAYS, JITTER_DAYS = 14, 2
PUBLIC_SHARE = 0.6
ANSWER_SHARE = 0.5
ANSWER_WITHIN = timedelta(days=7)
FOLLOWUP_SHARE = 2 / 3
PHONE = {"width": 390, "height": 844}
TARGET_SHARE, TARGET_SCREENS = 0.70, 4.0  # issue 14, for 15 allies at day 90
CHROMIUM = "/usr/bin/chromium"
_TOKEN = re.compile(r"/(r|verify|invitations)/([A-Za-z0-9_-]{22})\b")
GROUP_RULE = (2, True)  # (min allies, still so with any one ally taken away)
ALLY_RULE = (1, False)
SHOTS: Path | None = None  # --shots


# --- ground truth and the rules, written here independently of feedback/release/ --------


@dataclass(frozen=True)
class Answer:
    """One answer as the simulator knows it: who asked whom, about what."""

    ally: int
    recipient: str
    qid: str
    stage: str
    kind: str
    visibility: str

    def cell(self, dimension: str) -> str:
        path = kinds.path_of(self.kind)
        return {
            "path": path,
            "kind": self.kind,
            "visibility": self.visibility,
            "stage": self.stage,
            "stage_path": f"{self.stage}:{path}",
            "stage_kind": f"{self.stage}:{self.kind}",
        }[dimension]


def passes(answers: Iterable[Answer], *, k: int, rule: tuple[int, bool]) -> bool:
    """At least k distinct recipients, asked by at least ``min_allies`` allies, and (each_ally)
    still k recipients from enough allies once any one ally's answers are taken away. A
    recipient asked by two allies stays when one of them is taken away."""
    min_allies, each_ally = rule
    asked_by: dict[str, set[int]] = {}
    for answer in answers:
        asked_by.setdefault(answer.recipient, set()).add(answer.ally)
    allies = set().union(*asked_by.values()) if asked_by else set()
    if len(asked_by) < k or len(allies) < min_allies:
        return False
    if not each_ally:
        return True
    return len(allies) - 1 >= min_allies and all(
        sum(1 for who in asked_by.values() if who != {ally}) >= k for ally in allies
    )


def passes_shares(shares: Mapping[int, int], *, k: int) -> bool:
    """The group rule for counts per ally (links sent): k from 2 allies, with any one taken away."""
    total, largest = sum(shares.values()), max(shares.values(), default=0)
    return total >= k and len(shares) >= 3 and total - largest >= k


@dataclass
class Released:
    """A group cohort the simulator saw released, with the answers in it (ground truth)."""

    qid: str
    day: date
    members: list[Answer]
    document: Mapping[str, Any]


@dataclass
class Truth:
    group_cohorts: list[Released] = field(default_factory=list)
    links: list[tuple[int, date, int]] = field(default_factory=list)  # (ally, day asked, links)


def check_cohort(
    document: Mapping[str, Any], members: Sequence[Answer], *, k: int, rule: tuple[int, bool]
) -> list[str]:
    """What is wrong with a released cohort document, given the answers that were in it."""
    problems = []
    if int(document["responses"]) != len(members) or not passes(members, k=k, rule=rule):
        problems.append(f"a cohort of {document['responses']} fails the rule ({len(members)} known answers)")
    for dimension, cells in document.get("slices", {}).items():
        for cell, shown in cells.items():
            if shown.get("suppressed"):
                continue
            inside = [a for a in members if a.cell(dimension) == cell]
            if int(shown["responses"]) != len(inside) or not passes(inside, k=k, rule=rule):
                problems.append(f"cell {dimension}={cell} shows {shown['responses']}: fails the rule")
    return problems


# --- the lead's page, as figures -----------------------------------------------------


HIDDEN_LINE = "(hidden cells)"  # the row label of a figure's line on its hidden cells


@dataclass
class Td:
    text: str
    suppressed: bool


@dataclass
class Figure:
    id: str
    folded: bool
    rows: list[tuple[str, list[Td]]] = field(default_factory=list)


class _Figures(HTMLParser):
    """The tables of ``<figure class="insight">``: row labels and cells, and whether folded."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[Figure] = []
        self._details = 0
        self._figure: Figure | None = None
        self._text: list[str] | None = None
        self._suppressed = False
        self._body = False  # rows of a table's body; the head's are column names

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "details":
            self._details += 1
        elif tag == "figure" and "insight" in classes:
            self._figure = Figure(attributes.get("id") or "", folded=self._details > 0)
            self.figures.append(self._figure)
        elif tag == "tbody":
            self._body = True
        elif self._figure is not None and self._body and tag == "tr":
            self._figure.rows.append(("", []))
        elif self._figure is not None and self._body and tag in ("th", "td") and self._figure.rows:
            self._text, self._suppressed = [], "suppressed" in classes
        elif self._figure is not None and tag == "p" and "hidden-cells" in classes:
            # One line saying which cells are hidden, why, and what would show them: counted
            # as one placeholder however many cells it names.
            self._figure.rows.append((HIDDEN_LINE, []))
            self._text, self._suppressed = [], True

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._details -= 1
        elif tag == "figure":
            self._figure = None
        elif tag == "tbody":
            self._body = False
        elif self._figure is not None and tag in ("th", "td", "p") and self._text is not None:
            text = " ".join("".join(self._text).split())
            _label, cells = self._figure.rows[-1]
            if tag == "th":
                self._figure.rows[-1] = (text.removesuffix(" *"), cells)
            elif tag == "p":
                cells.append(Td(text, True))
            else:
                cells.append(Td(text, self._suppressed))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def figures_of(html: str) -> list[Figure]:
    parser = _Figures()
    parser.feed(html)
    return parser.figures


def is_number(td: Td) -> bool:
    return not td.suppressed and bool(re.match(r"\d", td.text))


@dataclass(frozen=True)
class Share:
    numbers: int
    figures: int
    numbers_all: int
    figures_all: int
    placeholders: Mapping[str, int]  # what the open placeholders say, and how often

    @property
    def share(self) -> float:
        return self.numbers / self.figures if self.figures else 0.0

    @property
    def share_all(self) -> float:
        return self.numbers_all / self.figures_all if self.figures_all else 0.0


def share_of(figures: Sequence[Figure]) -> Share:
    """Numbers among figures (see the module docstring), open and with the folded ones."""
    numbers = shown = numbers_all = shown_all = 0
    placeholders: Counter[str] = Counter()
    for figure in figures:
        for _label, cells in figure.rows:
            for td in cells:
                if not td.text:
                    continue
                number = is_number(td)
                shown_all += 1
                numbers_all += number
                if not figure.folded:
                    shown += 1
                    numbers += number
                    if not number:
                        placeholders[re.sub(r"\d+", "N", td.text)] += 1
    return Share(numbers, shown, numbers_all, shown_all, dict(placeholders))


def _first_int(text: str) -> int:
    found = re.match(r"\d+", text)
    return int(found.group()) if found else -1


def check_page(
    figures: Sequence[Figure],
    truth: Truth,
    labels: Mapping[tuple[str, str], str],
    *,
    k: int,
    checked: list[str] | None = None,
) -> list[str]:
    """Every number the page's rule-bound tables show, against the cohorts the simulator saw
    released (each checked on release): at least k, and exactly what those cohorts add up to.

    ``labels`` maps (dimension, row label) to the cell it names ("All released" names the total).
    Each number checked is named in ``checked``, so that a run can tell how much it checked.
    """
    seen = checked if checked is not None else []
    problems: list[str] = []

    def expect(qid: str, dimension: str | None, cell: str | None, shown: int, where: str) -> None:
        members = [
            answer
            for cohort in truth.group_cohorts
            if cohort.qid == qid
            and (dimension is None or not cohort.document["slices"].get(dimension, {}).get(cell, {}).get("suppressed"))
            and (dimension is None or cell in cohort.document["slices"].get(dimension, {}))
            for answer in cohort.members
            if dimension is None or answer.cell(dimension) == cell
        ]
        seen.append(where)
        if shown < k or shown != len(members) or not passes(members, k=k, rule=GROUP_RULE):
            problems.append(f"{where} shows {shown}; the released answers behind it: {len(members)}")

    qids = {f"{cohort.qid.replace('.', '-')}": cohort.qid for cohort in truth.group_cohorts}
    for figure in figures:
        lasting = re.fullmatch(r"lasting-(kind|path)", figure.id)
        sliced = None if lasting else re.fullmatch(r"(.+)-(kind|path|visibility)", figure.id)
        for label, cells in figure.rows:
            where = f"{figure.id} / {label}"
            if not cells or not is_number(cells[0]):
                continue
            if sliced:
                qid = qids.get(sliced.group(1), sliced.group(1))
                if label == labels.get(("total", "")):
                    expect(qid, None, None, _first_int(cells[0].text), where)
                else:
                    cell = labels.get((sliced.group(2), label))
                    expect(qid, sliced.group(2), cell, _first_int(cells[0].text), where)
            elif lasting:
                dimension = lasting.group(1)
                cell = labels.get((dimension, label), label)
                for index, qid, dim, name in (
                    (0, "immediate.v1", dimension, cell),
                    (2, "followup.v1", f"stage_{dimension}", f"followup_30:{cell}"),
                    (5, "followup.v1", f"stage_{dimension}", f"followup_90:{cell}"),
                ):
                    if len(cells) > index and is_number(cells[index]):
                        expect(qid, dim, name, _first_int(cells[index].text), f"{where} [{index}]")
        if figure.id == "lasting-overall":
            answers = next((cells for label, cells in figure.rows if label == "Answers"), [])
            for index, qid, dim, name in (
                (0, "immediate.v1", None, None),
                (1, "followup.v1", "stage", "followup_30"),
                (2, "followup.v1", "stage", "followup_90"),
            ):
                if len(answers) > index and is_number(answers[index]):
                    expect(qid, dim, name, _first_int(answers[index].text), f"lasting-overall [{index}]")
        if figure.id == "load-by-month":
            problems += _check_load(figure, truth, k=k)
            seen += [f"load / {label}" for label, cells in figure.rows if cells and is_number(cells[0])]
        if figure.id == "summary" and figure.rows and is_number(figure.rows[0][1][0]):
            released = sum(len(c.members) for c in truth.group_cohorts)
            if _first_int(figure.rows[0][1][0].text) != released:
                problems.append(f"summary shows {figure.rows[0][1][0].text} released; {released} were")
        if figure.id == "trend":
            for label, cells in figure.rows:
                month = "".join(_months(label)[:1])
                released = sum(len(c.members) for c in truth.group_cohorts if c.day.strftime("%Y-%m") == month)
                if cells and (_first_int(cells[0].text) != released or released < k):
                    problems.append(f"trend {month} shows {cells[0].text}; {released} were released then")
    return problems


def _months(label: str) -> list[str]:
    """The months a row label names, as YYYY-MM: the page writes them as English does ("Oct 2026")."""
    return [datetime.strptime(m, "%b %Y").strftime("%Y-%m") for m in re.findall(r"[A-Z][a-z]{2} \d{4}", label)]


def _check_load(figure: Figure, truth: Truth, *, k: int) -> list[str]:
    problems = []
    for label, cells in figure.rows:
        months = _months(label)
        if not months or not cells or not is_number(cells[0]):
            continue
        first, last = months[0], months[-1]
        shares: Counter[int] = Counter()
        for ally, day, links in truth.links:
            if first <= day.strftime("%Y-%m") <= last:
                shares[ally] += links
        if _first_int(cells[0].text) != shares.total() or not passes_shares(shares, k=k):
            problems.append(f"load {label} shows {cells[0].text} links; {shares.total()} from {len(shares)} allies")
    return problems


# --- the simulated world -------------------------------------------------------------------


class Clock:
    """The simulator's time, as naive UTC; the app reads it through ``api.clock.utcnow``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextlib.contextmanager
def clock_in_app(clock: Clock) -> Iterator[None]:
    """Make every module of the app that imported ``utcnow`` read the simulator's clock,
    in this process and only until the block ends. ``api.clock`` itself is patched too, so
    a module first imported meanwhile reads the clock as well; all are restored after."""
    real = api.clock.utcnow

    def ours(module: object, value: object) -> bool:
        name = getattr(module, "__name__", "")
        return name.split(".")[0] in ("api", "web") and getattr(module, "utcnow", None) is value

    for module in [m for m in list(sys.modules.values()) if ours(m, real)]:
        module.utcnow = clock  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in [m for m in list(sys.modules.values()) if ours(m, clock)]:
            module.utcnow = real  # type: ignore[attr-defined]


class Mailbox:
    """The development outbox, read as it fills: address -> link tokens, per kind of link."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.folder = Path(app.instance_path) / "outbox"
        self.seen: set[str] = set()
        self.tokens: dict[tuple[str, str], list[str]] = {}

    def collect(self, now: datetime) -> None:
        with self.app.app_context():
            send_letters_now(now)
            db.session.remove()
        if not self.folder.exists():
            return
        for path in sorted(self.folder.glob("*.eml")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            message = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
            for kind, token in _TOKEN.findall(message.get_content()):  # type: ignore[attr-defined]
                self.tokens.setdefault((str(message["To"]), kind), []).append(token)

    def last(self, to: str, kind: str, now: datetime) -> str:
        self.collect(now)
        return self.tokens[(to, kind)][-1]


class Member:
    """Someone with an account, talking to the JSON API; signs in again when the token expires."""

    password = "a long enough password"  # every simulated account's

    def __init__(self, world: "World", name: str) -> None:
        self.world = world
        self.email = f"{name}@erg.example.org"
        client = world.client
        created = client.post("/api/v1/accounts", json={"email": self.email, "password": self.password, "name": name})
        assert created.status_code == 202, created.get_json()
        token = world.mail.last(self.email, "verify", world.clock())
        assert client.post("/api/v1/accounts/verify", json={"token": token}).status_code == 200
        self.headers: dict[str, str] = {}
        self.sign_in()

    def sign_in(self) -> None:
        issued = self.world.client.post("/api/v1/tokens", json={"email": self.email, "password": self.password})
        assert issued.status_code == 201, issued.get_json()
        self.headers = {"Authorization": f"Bearer {issued.get_json()['token']}"}

    def call(self, method: str, url: str, body: Any = None) -> Any:
        for _attempt in range(2):
            response = self.world.client.open(url, method=method, json=body, headers=self.headers)
            if response.status_code != 401:
                return response
            self.sign_in()  # API tokens last 30 days, and the simulation runs longer
        return response


@dataclass
class Ally:
    index: int
    member: Member
    account: int
    circle: list[str]
    first_results: int | None = None  # the day they first saw released responses


@dataclass
class Action:
    id: int
    ally: Ally
    kind: str
    visibility: str
    asked: list[str]


@dataclass(frozen=True)
class Checkpoint:
    allies: int
    day: int
    share: Share
    median_first_results: int | None
    allies_with_results: int
    cohorts: int
    released: int
    answers: int
    links: int
    lead_screens: float | None
    recipient_screens: float | None
    problems: tuple[str, ...]
    checked: int  # numbers on the page checked against the ground truth


def settings_for(workdir: Path, hold_days: int | None = None) -> Settings:
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'erg.sqlite3'}",
        redis_url=None,
        secret_key="bench-erg-secret-key-0123456789abcdef0123",
        public_base_url="http://127.0.0.1:5000",
        release_min_responses=K,
        port=5000,
        key_encryption_key=keyring.parse_kek(keyring.new_kek()),
        password_cost=2**4,  # the simulated people's passwords need no strength
        ratelimit_enabled=False,  # hundreds of people share one test client here
    )
    return settings if hold_days is None else replace(settings, group_hold_days=hold_days)


class World:
    """One group, its lead and allies, their colleagues, and the app they all use."""

    def __init__(self, workdir: Path, clock: Clock, allies: int, seed: int, hold_days: int | None = None) -> None:
        self.clock = clock
        self.rng = random.Random(seed)
        self.app = create_app(settings_for(workdir, hold_days), instance_path=str(workdir / "instance"))
        # Background work runs when the simulation says, never on this machine's clock.
        self.app.extensions["allyloop.jobs"].stop()
        with self.app.app_context():
            db.create_all()
            keys.rotate(db.session, self.app.config["ALLYLOOP"].key_encryption_key, now=clock())
            db.session.commit()
            db.session.remove()
        self.client: FlaskClient = self.app.test_client()
        self.mail = Mailbox(self.app)
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.truth = Truth()
        self.pending: dict[tuple[str, int, str], list[Answer]] = {}
        self.last_cohort = 0
        self.dirty_tick: int | None = None
        self.answers = 0
        self.problems: list[str] = []
        self.unanswered: list[tuple[datetime, str]] = []  # immediate links nobody will answer
        self.lead = Member(self, "lead")
        self.group_id = int(self.lead.call("POST", "/api/v1/groups", {"name": "Allies network"}).get_json()["id"])
        pool = [f"colleague{n}@erg.example.org" for n in range(POOL_PER_ALLY * allies)]
        self.allies: list[Ally] = []
        for n in range(allies):
            member = self.join(f"ally{n}")
            account = int(member.call("GET", "/api/v1/me").get_json()["id"])
            self.allies.append(Ally(n, member, account, self.rng.sample(pool, CIRCLE)))
        self.by_account = {ally.account: ally for ally in self.allies}
        for ally in self.allies:
            first = clock() + timedelta(days=self.rng.uniform(0, EVERY_DAYS))
            self.at(first, lambda ally=ally: self.act(ally))

    def join(self, name: str) -> Member:
        member = Member(self, name)
        invited = self.lead.call(
            "POST", f"/api/v1/groups/{self.group_id}/members", {"email": member.email, "role": "ally"}
        )
        assert invited.status_code == 202, invited.get_json()
        token = self.mail.last(member.email, "invitations", self.clock())
        joined = member.call("POST", f"/api/v1/invitations/{token}", {})
        assert joined.status_code == 200, joined.get_json()
        return member

    def day(self, when: datetime | None = None) -> int:
        return ((when or self.clock()).date() - START).days

    def at(self, when: datetime, event: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self._order), event))

    # --- what people do ---

    def act(self, ally: Ally) -> None:
        path = self.rng.choice(kinds.PATHS)
        kind = self.rng.choice([k for k, p in kinds.KIND_PATHS.items() if p == path])
        visibility = "public" if self.rng.random() < PUBLIC_SHARE else "private"
        body = {
            "group_id": self.group_id,
            "kind": kind,
            "summary": f"{kinds.kind_name(kind)} for a colleague",
            "occurred_on": self.clock().date().isoformat(),
            "visibility": visibility,
        }
        logged = ally.member.call("POST", "/api/v1/actions", body)
        assert logged.status_code == 201, logged.get_json()
        action = Action(int(logged.get_json()["id"]), ally, kind, visibility, self.rng.sample(ally.circle, ASKED))
        self.ask(action, "immediate")
        for stage, days in (("followup_30", 30), ("followup_90", 90)):
            if self.rng.random() < FOLLOWUP_SHARE:
                later = self.clock() + timedelta(days=days + self.rng.uniform(0, 6.9))
                self.at(later, lambda action=action, stage=stage: self.ask(action, stage))
        gap = timedelta(days=EVERY_DAYS + self.rng.uniform(-JITTER_DAYS, JITTER_DAYS))
        self.at(self.clock() + gap, lambda: self.act(ally))

    def ask(self, action: Action, stage: str) -> None:
        body = {"stage": stage, "recipients": action.asked}
        asked = action.ally.member.call("POST", f"/api/v1/actions/{action.id}/requests", body)
        assert asked.status_code == 201, asked.get_json()
        self.truth.links.append((action.ally.index, self.clock().date(), len(action.asked)))
        qid = "immediate.v1" if stage == "immediate" else "followup.v1"
        for colleague in action.asked:
            token = self.mail.last(colleague, "r", self.clock())
            answer = Answer(action.ally.index, colleague, qid, stage, action.kind, action.visibility)
            if self.rng.random() < ANSWER_SHARE:
                later = self.clock() + self.rng.uniform(0, 1) * ANSWER_WITHIN
                self.at(later, lambda token=token, answer=answer: self.answer(token, answer))
            elif stage == "immediate":
                self.unanswered.append((self.clock(), token))

    def answer(self, token: str, answer: Answer) -> None:
        page = self.client.get(f"/api/v1/answer/{token}")
        assert page.status_code == 200, page.get_json()
        sent = self.client.post(f"/api/v1/answer/{token}", json=envelopes.seal_for_page(page.get_json(), self.rng))
        assert sent.status_code == 202, sent.get_json()
        self.answers += 1
        account = self.allies[answer.ally].account
        for key in (("ally", account, answer.qid), ("group", self.group_id, answer.qid)):
            self.pending.setdefault(key, []).append(answer)
        self.dirty_tick = self._tick_of(self.clock())

    # --- the app's ticks ---

    def _tick_of(self, when: datetime) -> int:
        interval = self.app.config["ALLYLOOP"].release_interval_seconds
        return int((when - datetime.combine(START, datetime.min.time())).total_seconds() // interval)

    def run_ticks_before(self, when: datetime) -> None:
        """The release tick that follows the last answer, if it comes before ``when``."""
        if self.dirty_tick is None or self._tick_of(when) <= self.dirty_tick:
            return
        interval = self.app.config["ALLYLOOP"].release_interval_seconds
        tick = datetime.combine(START, datetime.min.time()) + timedelta(seconds=(self.dirty_tick + 1) * interval)
        self.dirty_tick = None
        self.run_due(tick)

    def run_due(self, now: datetime) -> None:
        self.clock.now = now
        with self.app.app_context():
            report = run_due_now(now)
            cohorts = db.session.execute(
                select(Cohort, Scope).join(Scope, Scope.id == Cohort.scope_id).where(Cohort.id > self.last_cohort)
            ).all()
            db.session.remove()
        assert not report.failed_scopes, report
        for cohort, scope in sorted(cohorts, key=lambda row: row[0].id):
            self.last_cohort = cohort.id
            members = self.pending.pop((scope.kind, scope.subject_id, scope.questionnaire_id), [])
            rule = GROUP_RULE if scope.kind == "group" else ALLY_RULE
            self.problems += check_cohort(cohort.document, members, k=K, rule=rule)
            if scope.kind == "group":
                self.truth.group_cohorts.append(
                    Released(scope.questionnaire_id, cohort.released_on, members, cohort.document)
                )
            else:
                self.see_results(self.by_account[scope.subject_id])
        self.mail.collect(now)

    def see_results(self, ally: Ally) -> None:
        if ally.first_results is None:
            seen = ally.member.call("GET", "/api/v1/me/feedback").get_json()
            if int(seen["released"]["responses"]) > 0:
                ally.first_results = self.day()

    def run_until(self, end: datetime, *, sweep_hour: int = 1) -> None:
        """Everything that happens before ``end``, with a sweep of all that is due each night."""
        next_sweep = datetime.combine(self.clock().date() + timedelta(days=1), datetime.min.time()).replace(
            hour=sweep_hour
        )
        while True:
            upcoming = self.events[0][0] if self.events else end
            if next_sweep <= min(upcoming, end):
                self.run_ticks_before(next_sweep)
                self.run_due(next_sweep)
                next_sweep += timedelta(days=1)
                continue
            if upcoming >= end:
                break
            when, _order, event = heapq.heappop(self.events)
            self.run_ticks_before(when)
            self.clock.now = when
            event()
        self.run_ticks_before(end)
        self.clock.now = end

    # --- what people see ---

    def lead_page(self) -> tuple[str, FlaskClient]:
        web = self.app.test_client()
        form = web.get("/sign-in").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf, "the sign-in page has a CSRF token"
        body = {"csrf_token": csrf.group(1), "email": self.lead.email, "password": Member.password}
        assert web.post("/sign-in", data=body).status_code == 302
        page = web.get(f"/groups/{self.group_id}")
        assert page.status_code == 200, page.status_code
        return page.get_data(as_text=True), web

    def labels(self) -> dict[tuple[str, str], str]:
        from web.insights import cell_label

        with self.app.test_request_context():
            found = {("total", ""): "All released"}
            for dimension, cells in (("kind", kinds.KINDS), ("path", kinds.PATHS), ("visibility", kinds.VISIBILITIES)):
                found.update({(dimension, cell_label(dimension, cell)): cell for cell in cells})
            return found

    def checkpoint(self, day: int, browser: "Browser | None") -> Checkpoint:
        html, web = self.lead_page()
        figures = figures_of(html)
        checked: list[str] = []
        problems = check_page(figures, self.truth, self.labels(), k=K, checked=checked) + self.problems
        firsts = sorted(a.first_results for a in self.allies if a.first_results is not None)
        half = math.ceil(len(self.allies) / 2)
        lead_screens = recipient_screens = None
        if browser is not None:
            cookie = web.get_cookie("session")
            assert cookie is not None
            lead_screens = browser.screens(f"/groups/{self.group_id}", cookie.value)
            live = [token for when, token in self.unanswered if self.clock() - when < timedelta(days=20)]
            if live:
                recipient_screens = browser.screens(f"/r/{live[-1]}", None)
        return Checkpoint(
            allies=len(self.allies),
            day=day,
            share=share_of(figures),
            median_first_results=firsts[half - 1] if len(firsts) >= half else None,
            allies_with_results=len(firsts),
            cohorts=len(self.truth.group_cohorts),
            released=sum(len(c.members) for c in self.truth.group_cohorts),
            answers=self.answers,
            links=sum(n for _a, _d, n in self.truth.links),
            lead_screens=lead_screens,
            recipient_screens=recipient_screens,
            problems=tuple(problems),
            checked=len(checked),
        )

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


class Browser:
    """Headless Chromium at phone size, against the app served on 127.0.0.1 from a thread."""

    def __init__(self, app: Flask) -> None:
        from playwright.sync_api import sync_playwright
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )

    def screens(self, path: str, session_cookie: str | None) -> float:
        context = self.browser.new_context(viewport=PHONE)
        try:
            if session_cookie is not None:
                context.add_cookies([{"name": "session", "value": session_cookie, "url": self.url}])
            page = context.new_page()
            response = page.goto(self.url + path)
            assert response is not None and response.status == 200, path
            height = page.evaluate("document.documentElement.scrollHeight")
            if SHOTS is not None:  # --shots: the page as measured, whole, to look at
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "page"
                page.screenshot(path=str(SHOTS / f"{name}-{len(list(SHOTS.iterdir()))}.png"), full_page=True)
            return round(float(height) / PHONE["height"], 2)
        finally:
            context.close()

    def close(self) -> None:
        self.browser.close()
        self.playwright.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def simulate(
    allies: int, days: int, *, seed: int, browser: bool, workdir: Path, hold_days: int | None = None
) -> list[Checkpoint]:
    """One group of ``allies`` for ``days`` days; a checkpoint at each of CHECKPOINTS within them."""
    clock = Clock(datetime.combine(START, datetime.min.time()).replace(hour=8))
    found = []
    with clock_in_app(clock):
        world = World(workdir, clock, allies, seed, hold_days)
        measure = Browser(world.app) if browser else None
        try:
            for day in sorted({d for d in CHECKPOINTS if d <= days} | {days}):
                world.run_until(datetime.combine(START + timedelta(days=day), datetime.min.time()).replace(hour=9))
                found.append(world.checkpoint(day, measure))
        finally:
            if measure is not None:
                measure.close()
            world.close()
    return found


# --- reporting -----------------------------------------------------------------------------------


def _screens(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: Sequence[Checkpoint]) -> str:
    lines = [
        "| allies | day | links sent | answers | group releases (answers) | numbers / figures shown | share"
        " | share incl. folded | median ally's first results | lead page (screens) | recipient page (screens) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        median = "-" if row.median_first_results is None else f"day {row.median_first_results}"
        lines.append(
            f"| {row.allies} | {row.day} | {row.links} | {row.answers} | {row.cohorts} ({row.released})"
            f" | {row.share.numbers} / {row.share.figures} | {row.share.share:.0%} | {row.share.share_all:.0%}"
            f" | {median} ({row.allies_with_results}/{row.allies} by then) | {_screens(row.lead_screens)}"
            f" | {_screens(row.recipient_screens)} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[Checkpoint]) -> list[str]:
    """Issue 14's targets, for 15 allies at day 90, in words: 'PASS ...' or 'FAIL ...'."""
    out = []
    for row in rows:
        if (row.allies, row.day) != (15, 90):
            continue
        ok = row.share.share >= TARGET_SHARE
        out.append(f"{'PASS' if ok else 'FAIL'} numbers share {row.share.share:.0%} (target >= {TARGET_SHARE:.0%})")
        if row.lead_screens is not None:
            ok = row.lead_screens <= TARGET_SCREENS
            out.append(f"{'PASS' if ok else 'FAIL'} lead page {row.lead_screens:.2f} screens (target <= 4)")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--allies", type=int, nargs="+", default=[8, 15, 30])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-browser", action="store_true", help="skip the page lengths (no Chromium needed)")
    parser.add_argument(
        "--hold-days", type=int, help="GROUP_HOLD_DAYS for the simulated app (default: the app's own default)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per checkpoint too")
    parser.add_argument("--shots", type=Path, help="save each measured page, whole, as a PNG in this folder")
    args = parser.parse_args(argv)
    if args.shots is not None:
        global SHOTS
        args.shots.mkdir(parents=True, exist_ok=True)
        SHOTS = args.shots
    rows: list[Checkpoint] = []
    started = time.monotonic()
    for allies in args.allies:
        with tempfile.TemporaryDirectory(prefix="allyloop-erg-") as workdir:
            rows += simulate(
                allies,
                args.days,
                seed=args.seed,
                browser=not args.no_browser,
                workdir=Path(workdir),
                hold_days=args.hold_days,
            )
        print(f"{allies} allies simulated ({time.monotonic() - started:.0f} s so far)", file=sys.stderr)
    hold = "" if args.hold_days is None else f" --hold-days {args.hold_days}"
    print(f"python bench/erg.py --allies {' '.join(map(str, args.allies))} --days {args.days} --seed {args.seed}{hold}")
    print(table(rows))
    for row in rows:
        print(f"{row.allies} allies, day {row.day}: {row.checked} numbers on the page checked against ground truth")
        if row.share.placeholders:
            said = ", ".join(f'{n} x "{text}"' for text, n in sorted(row.share.placeholders.items()))
            print(f"{row.allies} allies, day {row.day}: placeholders shown open: {said}")
        if args.json:
            print(json.dumps({**row.__dict__, "share": row.share.__dict__}, default=str))
    for line in targets(rows):
        print(line)
    problems = [f"{row.allies} allies, day {row.day}: {p}" for row in rows for p in row.problems]
    for problem in problems:
        print("RELEASE RULE BROKEN:", problem)
    print("every figure shown passed the release rules" if not problems else f"{len(problems)} breaches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
