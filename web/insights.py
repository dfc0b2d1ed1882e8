"""What a lead's insights page shows, as tables: built once from ``group_insights`` and used
by both the page (tables and charts) and the CSV export, so the two always agree.

Every number here is read or derived from released cohort sums (counts per answer, per
slice cell): means and percentages of released counts, never anything per response or
per ally. A suppressed cell stays suppressed in every table, chart and CSV row.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_skeleton
from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _

from api.i18n import day_text, decimal_text, localized, ngettext, number_text, percent_text
from feedback import figures, followups, kinds, questionnaires, stages
from feedback.figures import GroupInsights, ItemCounts, Items, QuestionnaireView, Suppressed
from feedback.measures import chosen, pick, scale_sum, scales
from web.charts import Chart, Point, bar_chart
from web.labels import kind_label

DIMENSIONS = ("kind", "path", "visibility")
# Questions shown open on the page, not folded with the rest: what people would prefer.
FEATURED = frozenset({"preference", "visibility_preference"})
STAGE_ORDER = {"advice": 0, "immediate": 1, "followup": 2}


@dataclass(frozen=True)
class Value:
    """One table cell: its text on the page and its value in the CSV."""

    text: str
    csv: str
    unit: str = ""
    number: float | None = None


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[Value, ...]
    note: str = ""

    @property
    def hidden(self) -> bool:
        """Every value suppressed: the page folds it into its table's one line on what is hidden."""
        return bool(self.values) and all(value.csv == "suppressed" for value in self.values)


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    header: str  # what the rows are, e.g. "Kind of action"
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()
    hidden: str = ""  # one line on the rows the release rules hide, and what would show them
    headline: str = ""  # the answer most chosen, or a tie, in words

    @property
    def open_rows(self) -> tuple[Row, ...]:
        """The rows the page shows: the hidden ones are said in ``hidden`` instead."""
        return tuple(row for row in self.rows if not (self.hidden and row.hidden))


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    tables: tuple[Table, ...]  # shown open: the breakdown that shows the most
    featured: tuple[Table, ...] = ()  # what people prefer, shown open
    details: tuple[Table, ...] = ()  # the other breakdowns and every other question, folded


@dataclass(frozen=True)
class Insights:
    k: int
    min_allies: int
    responses: int
    cohorts: int
    sections: tuple[Section, ...]
    comments: tuple[str, ...] = ()  # the newest the page was given, oldest first
    unreadable_comments: int = 0
    comments_total: int = 0  # released comments in all, shown or not
    trend: Table | None = None
    summary: Table | None = field(default=None)  # at a glance: what is released, this month too
    lasting: Section | None = None  # "does it last?": right after vs 30 and 90 days
    followed_up: Table | None = None  # the share of actions whose ally followed up
    load: Section | None = None  # response load: links sent, answers released, by month


# --- cells ---------------------------------------------------------------------------


def count(n: int, unit: str = "responses") -> Value:
    return Value(text=number_text(n), csv=str(n), unit=unit, number=n)


def percent(part: int, whole: int) -> Value:
    if whole <= 0:
        return empty()
    value = round(100 * part / whole)
    return Value(text=percent_text(value), csv=str(value), unit="percent", number=value)


def mean(total: float, answered: int, low: int, high: int) -> Value:
    if answered <= 0:
        return empty()
    value = round(total / answered, 1)
    return Value(
        text=_("%(mean)s of %(high)s", mean=decimal_text(value), high=high),
        csv=f"{value:.1f}",
        unit=f"mean {low}-{high}",
        number=value,
    )


def suppressed(k: int) -> Value:
    """A figure the release rules hide: fewer than k people, too few allies, or one that would
    let a smaller one be worked out. The reason is said once per table, not in each cell."""
    return Value(text=_("hidden by the release rules"), csv="suppressed", unit="")


def empty() -> Value:
    return Value(text=_("no answers"), csv="", unit="")


def blank() -> Value:
    return Value(text="", csv="", unit="")


# --- labels --------------------------------------------------------------------------


def path_label(path: str) -> str:
    labels = {
        kinds.SIGNALING: _("Signaling"),
        kinds.INTERPERSONAL: _("Mitigation: interpersonal"),
        kinds.ACCESS: _("Mitigation: access"),
        kinds.STRUCTURAL: _("Mitigation: structural"),
    }
    return str(labels.get(path, path.replace("_", " ").capitalize()))


def cell_label(dimension: str, cell: str) -> str:
    if dimension == "kind":
        path = kinds.KIND_PATHS.get(cell)
        return f"{kind_label(cell)} ({path_label(path)})" if path else kind_label(cell)
    if dimension == "path":
        return path_label(cell)
    if dimension == "visibility":
        return str({"public": _("Public"), "private": _("Private")}.get(cell, cell.capitalize()))
    return cell


def short_label(dimension: str, cell: str) -> str:
    """A cell's name without its path, for a list of names."""
    return kind_label(cell) if dimension == "kind" else cell_label(dimension, cell)


def construct_label(construct: str) -> str:
    # What people said, not the path of the action: every row has both, whatever its path.
    labels = {
        "signaling": _("Felt valued"),
        "mitigation": _("Barrier moved"),
        "lasting": _("Lasting difference"),
        "voice": _("Voice"),
        "belonging": _("Belonging"),
    }
    return str(labels.get(construct, construct.replace("_", " ").capitalize()))


def dimension_title(dimension: str) -> tuple[str, str]:
    """(table title, row header) for a slice dimension."""
    if dimension == "kind":
        return _("By kind of action"), _("Kind of action (path)")
    if dimension == "path":
        return _("Signaling vs mitigation paths"), _("Path")
    return _("Public vs private actions"), _("Visibility")


def section_title(
    questionnaire_id: str, questionnaire: questionnaires.Questionnaire | None, *, versioned: bool = False
) -> tuple[str, str]:
    """A section's title and intro, in words; with ``versioned`` (several versions of one
    questionnaire released), the title names its version too."""
    stage = questionnaire.stage if questionnaire else questionnaire_id.split(".", 1)[0]
    titles = {
        "advice": (
            _("Before acting: what people wanted"),
            _("Answers to advice requests, asked before an ally acted."),
        ),
        "immediate": (_("Right after: did it help?"), _("Answers given soon after an ally acted.")),
        "followup": (
            _("Later: does it last?"),
            _(
                "Answers given %(first)s or %(second)s days later, about whether the help made a lasting difference.",
                **_days(),
            ),
        ),
    }
    title, intro = titles.get(stage, (questionnaire.title if questionnaire else _("Other answers"), ""))
    if versioned:
        version = questionnaire_id.rsplit(".v", 1)[-1]
        title = _("%(title)s, version %(version)s", title=title, version=version)
    return str(title), str(intro)


# --- measures --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Measure:
    """A column computed from a cell's item counts."""

    label: str
    kind: str  # "mean" or "percent"
    compute: Callable[[Items], Value]  # a cell's items -> its value
    chart: str  # "means" or "rates"
    top: float  # a full bar: the top of the scale, or 100 (%)
    explain: str  # how it is computed, in words, under the table


def _scale_mean(item_list: Sequence[questionnaires.Item]) -> Callable[[Items], Value]:
    item_ids = [item.id for item in item_list]
    low = min(int(item.min or 0) for item in item_list)
    high = max(int(item.max or 0) for item in item_list)
    return lambda items: mean(*scale_sum(pick(items, *item_ids)), low, high)


def _share_of(
    item: questionnaires.Item, values: frozenset[str], *, complement: bool = False
) -> Callable[[Items], Value]:
    def compute(items: Items) -> Value:
        hits, answered = chosen(pick(items, item.id), values)
        return percent(answered - hits if complement else hits, answered)

    return compute


def measures(questionnaire: questionnaires.Questionnaire | None) -> list[_Measure]:
    """The columns each slice table shows for this questionnaire: a mean per scale construct
    (signaling, mitigation, lasting difference, ...), then the wanted and backfire rates."""
    if questionnaire is None:
        return []
    out: list[_Measure] = []
    for construct, item_list in scales(questionnaire).items():
        top = float(max(int(item.max or 0) for item in item_list))
        label = construct_label(construct)
        explain = _(
            "%(label)s: the mean answer (from %(low)s to %(high)s) to: %(prompts)s",
            label=label,
            low=min(int(item.min or 0) for item in item_list),
            high=int(top),
            prompts=" / ".join(item.prompt for item in item_list),
        )
        out.append(_Measure(label, "mean", _scale_mean(item_list), "means", top, explain))
    for item in questionnaire.items:
        if item.construct == "wanted" and item.type == "choice":
            explain = _('Wanted: the share who answered "Yes" to: %(prompt)s', prompt=item.prompt)
            out.append(_Measure(_("Wanted"), "percent", _share_of(item, frozenset({"yes"})), "rates", 100.0, explain))
        if item.construct == "backfire" and item.type == "multi" and item.exclusive:
            explain = _("Any downside: the share who named at least one downside in: %(prompt)s", prompt=item.prompt)
            share = _share_of(item, item.exclusive, complement=True)
            out.append(_Measure(_("Any downside"), "percent", share, "rates", 100.0, explain))
    return out


# --- tables ----------------------------------------------------------------------------


def _load(questionnaire_id: str) -> questionnaires.Questionnaire | None:
    try:
        return localized(questionnaires.load(questionnaire_id))  # its wording in the reader's language
    except (questionnaires.UnknownQuestionnaire, questionnaires.QuestionnaireFormatError):
        return None


def _chart_for(
    table_id: str, title: str, rows: Sequence[Row], picked: Sequence[tuple[int, str]], maximum: float
) -> Chart:
    return bar_chart(
        table_id + "-" + str(picked[0][0]),
        title,
        [row.label for row in rows],
        [name for _, name in picked],
        [[Point(row.values[i].number, row.values[i].text) for i, _ in picked] for row in rows],
        maximum=maximum,
    )


def _noun(dimension: str, n: int) -> str:
    if dimension == "kind":
        return str(ngettext("%(num)s kind of action", "%(num)s kinds of action", n))
    if dimension == "path":
        return str(ngettext("%(num)s path", "%(num)s paths", n))
    return str(ngettext("%(num)s cell", "%(num)s cells", n))


def hidden_line(dimension: str, hidden: Sequence[str], *, of: int = 0) -> str:
    """One line for the cells the release rules hide in a breakdown (the labels of ``hidden``,
    of ``of`` cells in all): which, why, and what would show them. Says no number the rules
    would not show."""
    if not hidden:
        return ""
    if len(hidden) == of:
        head = _("None of the %(what)s shows yet.", what=_noun(dimension, of))
    else:
        head = _("Not shown yet: %(names)s.", names=", ".join(hidden))
    # The rule itself heads the page; here only why, in words, and what will change it. Never
    # which rule hid a cell, nor a number: each would narrow what the cell holds.
    why = _("Too few answers yet, or about too few allies: more answers will show them.")
    return f"{head} {why}"


def slice_table(
    qid: str,
    dimension: str,
    view: QuestionnaireView,
    cells: Mapping[str, figures.Slice],
    found: list[_Measure],
    k: int,
) -> Table:
    title, header = dimension_title(dimension)
    columns = (_("Responses"), *(m.label + (_(" (mean)") if m.kind == "mean" else _(" (%)")) for m in found))
    rows = [Row(_("All released"), (count(view.responses), *(m.compute(view.items) for m in found)))]
    partial = False
    hidden: list[str] = []
    for cell, shown in cells.items():
        label = cell_label(dimension, cell)
        if isinstance(shown, Suppressed):
            rows.append(Row(label, tuple(suppressed(k) for _ in columns)))
            hidden.append(short_label(dimension, cell))
            continue
        note = "" if shown.complete else "*"
        partial = partial or bool(note)
        rows.append(Row(label, (count(shown.responses), *(m.compute(shown.items) for m in found)), note))
    table_id = f"{qid.replace('.', '-')}-{dimension}"
    charts = []
    shown_rows = [row for row in rows if not row.hidden]
    for chart, chart_title in (
        ("means", _("%(title)s: mean answer on the 1 to 5 scales", title=title)),
        ("rates", _("%(title)s: share of those who answered", title=title)),
    ):
        picked = [(i + 1, m.label) for i, m in enumerate(found) if m.chart == chart][:3]
        if picked:
            top = max(m.top for m in found if m.chart == chart)
            charts.append(_chart_for(table_id, chart_title, shown_rows, picked, top))
    notes = [m.explain for m in found]
    if partial:
        notes.append(_("* Some releases hid this cell; its numbers cover only the releases that showed it."))
    line = hidden_line(dimension, hidden, of=len(cells))
    return Table(table_id, title, header, tuple(columns), tuple(rows), tuple(charts), tuple(notes), hidden=line)


def item_table(qid: str, item: questionnaires.Item, view_items: Items, responses: int) -> Table:
    data = view_items.get(item.id, ItemCounts(0, {}))
    answered = data.answered
    counts = data.counts
    options: list[tuple[str, str]]
    if item.type == "scale":
        low, high = int(item.min or 1), int(item.max or 5)
        options = [
            (str(p), f"{p}: {item.labels[str(p)]}" if str(p) in item.labels else str(p)) for p in range(low, high + 1)
        ]
        if item.allow_na:
            options.append(("na", item.labels.get("na", _("Doesn't apply"))))
    else:
        options = [(o.value, o.label) for o in item.options]
    rows = [
        Row(label, (count(counts.get(value, 0)), percent(counts.get(value, 0), answered))) for value, label in options
    ]
    rows.append(Row(_("Answered"), (count(answered), percent(answered, responses))))
    notes = []
    if item.type == "multi":
        notes.append(_("People could choose more than one option, so shares can add up to more than 100%."))
    if item.type == "scale":
        rows.append(Row(_("Mean"), (mean(*scale_sum([data]), int(item.min or 1), int(item.max or 5)), blank())))
    table_id = f"{qid.replace('.', '-')}-item-{item.id}"
    shown = rows[: len(options)]
    chart = bar_chart(
        table_id,
        item.prompt,
        [row.label for row in shown],
        [_("Share of those who answered")],
        [[Point(row.values[1].number, row.values[1].text)] for row in shown],
        maximum=100.0,
    )
    headline = most_chosen(options, counts) if item.type != "scale" else ""
    return Table(
        table_id,
        item.prompt,
        _("Answer"),
        (_("Answers"), _("Share (%)")),
        tuple(rows),
        (chart,),
        tuple(notes),
        headline=headline,
    )


def most_chosen(options: Sequence[tuple[str, str]], counts: Mapping[str, int]) -> str:
    """The answer most chosen, in words; a tie said as a tie, never as a preference."""
    top = max((counts.get(value, 0) for value, _label in options), default=0)
    if top <= 0:
        return ""
    leaders = [label for value, label in options if counts.get(value, 0) == top]
    if len(leaders) == 1:
        return str(_("Most chosen: %(answer)s.", answer=leaders[0]))
    return str(
        ngettext(
            "A tie: %(answers)s, chosen %(num)s time each.",
            "A tie: %(answers)s, chosen %(num)s times each.",
            top,
            answers=_(" and ").join(leaders),
        )
    )


def open_dimension(slices: Mapping[str, Mapping[str, figures.Slice]]) -> str | None:
    """The breakdown the page leads with: the one whose shown cells hold the most answers, by
    kind where kinds show as much as paths, else by path (kinds too thin), else public/private."""
    present = [dimension for dimension in DIMENSIONS if slices.get(dimension)]
    if not present:
        return None

    def shown(dimension: str) -> int:
        return sum(cell.responses for cell in slices[dimension].values() if isinstance(cell, figures.Cell))

    if not any(shown(dimension) for dimension in present):  # nothing shows: the shortest line, paths first
        return min(present, key=lambda dimension: (dimension != "path", len(slices[dimension])))
    return max(present, key=lambda dimension: (shown(dimension), -DIMENSIONS.index(dimension)))


def questionnaire_section(qid: str, view: QuestionnaireView, k: int, *, versioned: bool = False) -> Section:
    questionnaire = _load(qid)
    title, _intro = section_title(qid, questionnaire, versioned=versioned)
    found = measures(questionnaire)
    slices = view.slices
    lead = open_dimension(slices)
    by_dimension = {
        dimension: slice_table(qid, dimension, view, slices[dimension], found, k)
        for dimension in DIMENSIONS
        if dimension in slices
    }
    tables = tuple(table for dimension, table in by_dimension.items() if dimension == lead)
    others = tuple(table for dimension, table in by_dimension.items() if dimension != lead)
    items = questionnaire.items if questionnaire is not None else ()
    featured = tuple(item_table(qid, item, view.items, view.responses) for item in items if item.construct in FEATURED)
    details = others + tuple(
        item_table(qid, item, view.items, view.responses) for item in items if item.construct not in FEATURED
    )
    summary = " ".join(
        (
            ngettext("%(num)s answer", "%(num)s answers", view.responses),
            ngettext("in %(num)s release;", "in %(num)s releases;", view.cohorts),
            ngettext(
                "%(num)s said they would rather not answer.",
                "%(num)s said they would rather not answer.",
                view.declined,
            ),
        )
    )
    return Section(qid.replace(".", "-"), title, summary, tables, featured, details)


# --- does it last? ----------------------------------------------------------------------

# The stages set side by side, and the words for each: at most three, one bar pattern each.
LASTING_STAGES = stages.LASTING


def followup_days() -> tuple[int, int]:
    """FOLLOWUP_DAYS as this app is set (its default outside one): the follow-ups' labels say them."""
    if has_app_context():
        first, second = current_app.config["ALLYLOOP"].followup_days
    else:
        first, second = followups.DEFAULT_DAYS
    return first, second


def _days() -> dict[str, int]:
    first, second = followup_days()
    return {"first": first, "second": second}


def stage_label(stage: str) -> str:
    if stage in stages.BY_ID:
        return stages.label(stage, followup_days(), _)
    return stage


def not_released() -> Value:
    return Value(text=_("not enough yet"), csv="not released", unit="")


def _scaled(value: float | None, unit: str, *, percent_of_one: bool = False) -> Value:
    """A released mean (1-5) or share (0-1) as a cell."""
    if value is None:
        return empty()
    if percent_of_one:
        share = round(100 * value)
        return Value(text=percent_text(share), csv=str(share), unit="percent", number=share)
    return Value(
        text=_("%(mean)s of %(high)s", mean=decimal_text(value), high=5), csv=f"{value:.1f}", unit=unit, number=value
    )


def _helped(side: figures.Immediate, path: str) -> float | None:
    """Right after: the mean of the path's own scales (signaling, or mitigation)."""
    return side.mitigation if path in kinds.MITIGATION_PATHS else side.signaling


def _stage_values(
    stage: str, side: figures.Immediate | figures.Later | Suppressed | None, path: str, k: int
) -> tuple[Value, ...]:
    """A stage's cells in one row: responses, then its measures; words where nothing shows."""
    width = 2 if stage == "immediate" else 3
    if side is None:
        return tuple(not_released() for _ in range(width))
    if isinstance(side, Suppressed):
        return tuple(suppressed(k) for _ in range(width))
    mark = "" if side.complete is not False else " *"
    responses = Value(f"{side.responses}{mark}", str(side.responses), "responses", side.responses)
    if isinstance(side, figures.Immediate):
        return responses, _scaled(_helped(side, path), "mean 1-5")
    return (
        responses,
        _scaled(side.lasting, "mean 1-5"),
        _scaled(side.recurred_less, "", percent_of_one=True),
    )


def _headline(values: tuple[Value, ...]) -> Point:
    """What a stage's bar shows: its mean on the 1-5 scale (the second value), or words."""
    first, mean_value = values[0], values[1]
    if first.number is None:  # suppressed, or not released
        return Point(None, first.text)
    return Point(mean_value.number, mean_value.text)


def lasting_table(dimension: str, rows_in: Mapping[str, figures.LastingRow], k: int) -> Table:
    title = _("Does it last? By path") if dimension == "path" else _("Does it last? By kind of action")
    header = _("Path") if dimension == "path" else _("Kind of action (path)")
    columns = (
        _("Right after: responses"),
        _("Right after: helped (mean)"),
        *(
            column
            for days in followup_days()
            for column in (
                _("After %(days)s days: responses", days=days),
                _("After %(days)s days: lasting difference (mean)", days=days),
                _("After %(days)s days: came up less (%%)", days=days),
            )
        ),
    )
    rows: list[Row] = []
    headline: list[list[Point]] = []
    partial = pooled_only = False
    for cell, row in rows_in.items():
        path = row.path
        pooled = row.followup
        staged = [row.followup_30, row.followup_90]
        pooled_only = pooled_only or (pooled is not None and all(side is None for side in staged))
        per_stage = [_stage_values(stage, getattr(row, stage), path, k) for stage in LASTING_STAGES]
        partial = partial or any(v.text.endswith(" *") for values in per_stage for v in values)
        rows.append(Row(cell_label(dimension, cell), tuple(v for values in per_stage for v in values)))
        headline.append([_headline(values) for values in per_stage])
    table_id = f"lasting-{dimension}"
    charts: tuple[Chart, ...] = ()
    if rows:
        chart_title = _(
            "%(title)s: right after, and %(first)s and %(second)s days later (mean answer, 1 to 5)",
            title=title,
            **_days(),
        )
        stages = [stage_label(stage) for stage in LASTING_STAGES]
        charts = (bar_chart(table_id, chart_title, [r.label for r in rows], stages, headline, maximum=5.0),)
    notes = [
        _(
            "Right after, helped: the mean answer (1 to 5) to the questions of the action's own path: "
            "feeling recognised, seen as capable and safer to speak up for signaling; changed treatment "
            "and access for the mitigation paths."
        ),
        _("Later, lasting difference: the mean answer (1 to 5) to whether the help made a lasting difference."),
        _(
            "Came up less: the share for whom the problem came up again less often or not at all, "
            "among those it applied to."
        ),
        _(
            "A stage shows only with at least %(k)s answers from enough allies; a stage that would let "
            "a smaller one be worked out is suppressed too.",
            k=k,
        ),
    ]
    if partial:
        notes.append(_("* Some releases hid this cell; its numbers cover only the releases that showed it."))
    if pooled_only:
        notes.append(
            _(
                "Follow-ups released before %(first)s and %(second)s days were told apart are not in these "
                "columns: they count, together, in the section on the follow-up questionnaire below.",
                **_days(),
            )
        )
    return Table(table_id, title, header, columns, tuple(rows), charts, tuple(notes))


def followed_up_table(rate: figures.FollowupRate | None, k: int) -> Table | None:
    """'Allies who followed up: N% of M actions', or why it is not shown, in words."""
    if rate is None:
        return None
    label = _("Allies who followed up")
    as_of = day_text(rate.as_of)
    rows: tuple[Row, ...]
    if rate.actions is None or rate.followed_up is None:
        value = Value(
            text=_(
                "not enough yet (suppressed: fewer than %(k)s actions due for a follow-up, or too few allies)",
                k=k,
            ),
            csv="suppressed",
            unit="",
        )
        rows = (Row(label, (value,)),)
    else:
        actions, done = rate.actions, rate.followed_up
        share = round(100 * done / actions) if actions else 0
        text = _("%(share)s of %(actions)s actions", share=percent_text(share), actions=actions)
        rows = (
            Row(label, (Value(text=text, csv=str(share), unit="percent", number=share),)),
            Row(_("Actions counted"), (Value(str(actions), str(actions), "actions", actions),)),
            Row(_("Actions followed up"), (Value(str(done), str(done), "actions", done),)),
        )
    note = _(
        "Counts actions whose first follow-up came due at least 30 days before %(as_of)s, oldest first, "
        "in batches that each pass the group rule on their own (at least k actions from several allies), "
        "and whether their ally asked for it within 30 days of its due day. What it gains from one month "
        "to the next is never one ally's record.",
        as_of=as_of,
    )
    return Table("followed-up", _("Did allies follow up?"), _("Measure"), (_("Value"),), rows, (), (note,))


def _overall_cell(side: figures.Immediate | figures.Later | Suppressed | None, measure: str, k: int) -> Value:
    """One moment's figure in the overall "does it last?" table; blank where it does not apply."""
    if measure == "responses":
        if side is None:  # nothing released for this moment yet (short: three columns on a phone)
            return Value(text=_("not yet"), csv="not released", unit="")
        if isinstance(side, Suppressed):
            return suppressed(k)
        mark = "" if side.complete is not False else " *"
        return Value(f"{side.responses}{mark}", str(side.responses), "responses", side.responses)
    if side is None or isinstance(side, Suppressed):  # said once, in its answers' row
        return blank()
    value = getattr(side, measure, False)
    if value is False:  # this moment does not ask it
        return blank()
    return _scaled(value, "mean 1-5", percent_of_one=measure in ("wanted", "recurred_less"))


def lasting_overall(overall: figures.Moments | None, k: int) -> Table | None:
    """Right after, and 30 and 90 days later, for every answer released: one column a moment."""
    if overall is None or (overall.immediate is None and overall.followup is None):
        return None
    moments = (overall.immediate, overall.followup_30, overall.followup_90)
    # Felt valued and barrier moved are asked right after only, and the questionnaire's own
    # section shows them open beside this table: here they would say the same twice.
    measures = (
        ("responses", _("Answers")),
        ("wanted", _("Wanted it")),
        ("lasting", _("Lasted")),
        ("recurred_less", _("Came up less")),
    )
    every = [Row(label, tuple(_overall_cell(side, measure, k) for side in moments)) for measure, label in measures]
    # A measure no moment shown asks (lasting, before any follow-up) is left out.
    rows = tuple(row for row in every if any(value.text for value in row.values))
    notes = [
        _(
            "Every answer released, whatever the action. Wanted it: the share who wanted the help. "
            "Lasted: the mean answer (1 to 5) to whether it made a lasting difference. Came up less: the share "
            "for whom the problem came up less often or not at all."
        ),
    ]
    if any(side is not None and not isinstance(side, Suppressed) and side.complete is False for side in moments):
        notes.append(
            _(
                "* Some follow-ups were released before %(first)s and %(second)s days were told apart: "
                "not in these columns.",
                **_days(),
            )
        )
    columns = (_("Right after"), *(_("%(days)s days", days=days) for days in followup_days()))
    return Table("lasting-overall", _("Every action"), _("Measure"), columns, rows, (), tuple(notes))


def lasting_section(lasting: figures.Lasting | None, k: int) -> Section:
    by = {} if lasting is None else {"path": lasting.by_path, "kind": lasting.by_kind}
    tables = tuple(lasting_table(dimension, by[dimension], k) for dimension in ("path", "kind") if by.get(dimension))
    overall = lasting_overall(None if lasting is None else lasting.overall, k)
    if overall is not None:
        tables = (overall, *tables)
    intro = _(
        "Right after an action, and again %(first)s and %(second)s days later: did the help make a difference, "
        "and did it last? Signaling (helping someone feel valued) sits beside the mitigation paths (removing a "
        "barrier).",
        **_days(),
    )
    return Section("does-it-last", _("Does it last?"), intro, tables)


# --- response load ------------------------------------------------------------------------


def month_label(month: date | str) -> str:
    """A month as the reader's language writes it ("Oct 2026"); from a date or YYYY-MM."""
    day = month if isinstance(month, date) else date.fromisoformat(f"{month}-01")
    return str(format_skeleton("yMMM", day, locale=get_locale() or "en"))


def period_label(period: figures.Period) -> str:
    first, last = month_label(period.first), month_label(period.last)
    return first if first == last else _("%(first)s to %(last)s", first=first, last=last)


def _load_row(period: figures.Period, k: int) -> Row:
    answers, declined = period.answers, period.declined
    if period.links is None:
        text = _("suppressed (fewer than %(k)s links, or too few allies)", k=k)
        links = Value(text=text, csv="suppressed", unit="")
    else:
        links = count(period.links, "links")
    return Row(period_label(period), (links, count(answers), count(declined), percent(declined, answers)))


def load_by_month(periods: Sequence[figures.Period], k: int) -> Table:
    columns = (_("Answer links sent"), _("Answers released"), _("I'd rather not answer"), _("Declined (%)"))
    rows = tuple(_load_row(period, k) for period in periods)
    title = _("Links sent and answers released, by month")
    chart = bar_chart(
        "load-by-month",
        title,
        [row.label for row in rows],
        list(columns[:3]),
        [[Point(value.number, value.text) for value in row.values[:3]] for row in rows],
    )
    notes = (
        _(
            "Answer links sent: the links the group's allies made that month. A month shows only with at least "
            "%(k)s links from enough allies that no one ally's links can be told apart; until then it is merged "
            "with the months after it.",
            k=k,
        ),
        _(
            "Answers released: answers carry no date, so they count in the month their release came out, "
            "often later than the month their link was sent."
        ),
        _("I'd rather not answer: released answers that only said \"I'd rather not answer\"."),
    )
    return Table("load-by-month", title, _("Months"), columns, rows, (chart,), notes)


def response_rate_table(load: figures.ResponseLoad, k: int) -> Table:
    label = _("Answers released per link sent")
    shown = load.shown
    if not shown:
        text = _("not enough yet (suppressed: fewer than %(k)s links, or too few allies)", k=k)
        rows: tuple[Row, ...] = (Row(label, (Value(text=text, csv="suppressed", unit=""),)),)
        return Table("response-rate", _("Response rate"), _("Measure"), (_("Value"),), rows)
    links, answers, declined = load.links, load.answers, load.declined
    rate = percent(answers, links)
    rows = (
        Row(
            label,
            (Value(_("%(share)s of %(links)s links", share=rate.text, links=links), rate.csv, "percent", rate.number),),
        ),
        Row(_("Answer links sent"), (count(links, "links"),)),
        Row(_("Answers released"), (count(answers),)),
        Row(_("I'd rather not answer (%)"), (percent(declined, answers),)),
    )
    note = _(
        "From %(first)s to %(last)s: answers released by the end of %(last)s, per link sent by then. Answers "
        "still waiting for a release of at least %(k)s are not in it yet, so the true rate is at least this.",
        first=month_label(shown[0].first),
        last=month_label(shown[-1].last),
        k=k,
    )
    return Table("response-rate", _("Response rate"), _("Measure"), (_("Value"),), rows, (), (note,))


def load_section(load: figures.ResponseLoad | None, k: int) -> Section | None:
    if load is None:
        return None
    periods = load.periods
    tables = (load_by_month(periods, k), response_rate_table(load, k)) if periods else ()
    intro = _(
        "How often the people this group's allies help are asked for feedback, and how many answer: asking "
        "is a burden too. Months count once they have ended (before %(as_of)s).",
        as_of=month_label(load.as_of),
    )
    return Section("response-load", _("Response load"), intro, tables)


def _section_key(qid: str) -> tuple[int, str]:
    return (STAGE_ORDER.get(qid.split(".", 1)[0], len(STAGE_ORDER)), qid)


def glance(insights: GroupInsights) -> Table:
    """What is released so far, this month included: every number here is a sum of whole
    releases (each passed the group rule), or a figure that passes it on its own."""
    released = insights.released
    rows = [
        Row(_("Answers released"), (count(released.responses),)),
        Row(_("Releases"), (Value(str(released.cohorts), str(released.cohorts), "cohorts", released.cohorts),)),
    ]
    notes = [
        _(
            "A release is at least %(k)s people's answers about at least %(allies)s allies: answers come in whole "
            "releases, from the first month on.",
            k=insights.k,
            allies=insights.min_allies,
        )
    ]
    load = insights.response_load
    if load is not None:
        month = load.as_of.strftime("%Y-%m")
        this_month = sum(point.responses for point in released.trend if point.month == month)
        rows.append(Row(_("Released in %(month)s", month=month_label(load.as_of)), (count(this_month),)))
        if load.shown and load.links:
            rate = percent(load.answers, load.links)
            text = _("%(share)s of %(links)s links", share=rate.text, links=load.links)
            rows.append(Row(_("Answers per link sent"), (Value(text, rate.csv, "percent", rate.number),)))
    return Table("summary", _("At a glance"), _("Measure"), (_("Value"),), tuple(rows), (), tuple(notes))


def build(insights: GroupInsights) -> Insights:
    """The page and CSV content from ``feedback.services.results.group_insights``."""
    k = insights.k
    released = insights.released
    views = released.questionnaires
    ordered = sorted(views, key=_section_key)
    stage_of = [qid.split(".", 1)[0] for qid in ordered]
    sections = tuple(
        questionnaire_section(qid, views[qid], k, versioned=stage_of.count(stage) > 1)
        for qid, stage in zip(ordered, stage_of, strict=True)
    )
    trend_rows = tuple(Row(month_label(point.month), (count(point.responses),)) for point in released.trend)
    trend = None
    if trend_rows:
        chart = bar_chart(
            "trend",
            _("Released responses by month"),
            [row.label for row in trend_rows],
            [_("Responses")],
            [[Point(row.values[0].number, row.values[0].text)] for row in trend_rows],
        )
        trend = Table("trend", _("Trend by month"), _("Month released"), (_("Responses"),), trend_rows, (chart,))
    return Insights(
        k=k,
        min_allies=insights.min_allies,
        responses=released.responses,
        cohorts=released.cohorts,
        sections=sections,
        comments=released.comments,
        unreadable_comments=released.unreadable_comments,
        comments_total=released.comments_total,
        trend=trend,
        summary=glance(insights),
        lasting=lasting_section(released.lasting, k),
        followed_up=followed_up_table(insights.followed_up, k),
        load=load_section(insights.response_load, k),
    )


# --- CSV -------------------------------------------------------------------------------

CSV_HEADER = ("section", "table", "row", "column", "value", "unit")


def safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or a tab or carriage
    return) is read as text once prefixed with an apostrophe."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def csv_rows(group_name: str, view: Insights) -> list[tuple[str, ...]]:
    """Every number the page shows, one per line, plus what the export is of."""
    about = _("About this export")
    rows: list[tuple[str, ...]] = [
        (about, "", _("Group"), "", group_name, ""),
        (about, "", _("Smallest release (k)"), "", str(view.k), "responses"),
        (about, "", _("Fewest allies behind any number"), "", str(view.min_allies), "allies"),
    ]

    def table_rows(section: str, table: Table) -> None:
        for row in table.rows:
            label = row.label + (" " + _("(partial)") if row.note else "")
            for column, value in zip(table.columns, row.values, strict=True):
                rows.append((section, table.title, label, column, value.csv, value.unit))

    overview = _("Overview")
    for table in (view.summary, view.trend):
        if table is not None:
            table_rows(overview, table)
    if view.load is not None:
        for table in view.load.tables:
            table_rows(view.load.title, table)
    if view.lasting is not None:
        for table in view.lasting.tables:
            table_rows(view.lasting.title, table)
    if view.followed_up is not None:
        table_rows(view.lasting.title if view.lasting else "", view.followed_up)
    for section in view.sections:
        for table in section.tables + section.featured + section.details:
            table_rows(section.title, table)
    return [tuple(safe_cell(cell) for cell in row) for row in rows]
