"""Charts of what the desk learned (guide 6.9, "learn from the experience"; issue 12):
skill against chance per desideratum, how long the steps of a case took, and which
troubleshooting findings were raised month by month.

Pure: report values in, bytes out.  matplotlib is imported when a chart is first drawn,
so the names and words here cost nothing to import.  Each chart is a
``matplotlib.figure.Figure`` drawn without pyplot, so no global state (current figure,
GUI backend) is involved; the rcParams that shape the output are set only for the moment
of saving, and the threads of the web desk draw one chart at a time (a lock: rcParams and
matplotlib's caches are process-wide).

The same data gives the same bytes: the SVG ids come from a fixed salt and no date is
written.  The SVG keeps its text as text (svg.fonttype "none"), so the names of the
desiderata can be searched and read by screen readers, and its styling is written as
presentation attributes instead of ``style`` attributes and a ``<style>`` element, so it
draws the same under a content security policy that forbids inline styles.
"""

from __future__ import annotations

import io
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cvdesk.domain.safetext import visible
from cvdesk.metrics.views import SkillReport, TimingReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The charts, by the file name they are saved under (without the extension).
CHARTS: dict[str, str] = {
    "alpha": "Skill against chance: alpha per desideratum with its 95% interval",
    "timing": "How long the steps of a case took (days)",
    "findings": "Troubleshooting findings raised per month, by problem",
}
FORMATS = ("png", "svg")

#: The six events of the case-state model in short words (Vultron CS; guide 2.4).
EVENT_WORDS = {"V": "vendor aware", "F": "fix ready", "D": "fix deployed",
               "P": "public aware", "X": "exploit public", "A": "attacks seen"}
#: The order timing measures are drawn in (top to bottom), others after them.
MEASURES = ("acknowledgement", "first reply", "fix ready", "publication")
#: Problems drawn with a colour of their own in the findings chart; the rest are "other".
TOP_PROBLEMS = 7

NO_DATA = "no data"
WIDTH, DPI = 9.0, 100
_SALT = "cvdesk-metrics"
#: Held while a chart is built and saved: matplotlib's rcParams and its font and text
#: caches are shared by the whole process.
_LOCK = threading.RLock()
#: Colours that stay apart for readers with the common colour-vision deficiencies
#: (Okabe and Ito), then grey for "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER_COLOUR = "#999999"


# ---------------------------------------------------------------- the charts
def desideratum_phrase(name: str) -> str:
    """ "V<P" -> "vendor aware before public aware" (the name itself if not of that form)."""
    first, sep, second = name.partition("<")
    if not sep or first not in EVENT_WORDS or second not in EVENT_WORDS:
        return name
    return f"{EVENT_WORDS[first]} before {EVENT_WORDS[second]}"


def desideratum_words(name: str) -> str:
    """ "V<P" -> "V<P  vendor aware before public aware" (a chart's row label)."""
    phrase = desideratum_phrase(name)
    return name if phrase == name else f"{name}  {phrase}"


def _scope_words(scope: dict[str, str | None]) -> str:
    parts = [f"{key} {_drawn(value)}" for key, value in scope.items() if value]
    return ", ".join(parts) if parts else "all cases"


def _drawn(text: str) -> str:
    """Text from outside (a vendor's name) as matplotlib should draw it: as it is.  A pair
    of dollar signs would make it TeX-like math (a name with '$\\frac{$' stopped the chart
    with a parse error, '$\\alpha$' drew a Greek letter), and a control character would
    make the SVG invalid XML: dollars are escaped, controls and bidi shown as escapes."""
    return visible(text, layout=False).replace("$", r"\$")


def _no_data(fig: Figure, title: str, why: str = "") -> Figure:
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_axis_off()
    ax.text(0.5, 0.5, NO_DATA + (f"\n{why}" if why else ""), ha="center", va="center",
            fontsize=14, color="#555555", transform=ax.transAxes)
    return fig


def alpha_figure(report: SkillReport | None) -> Figure:
    """One row per desideratum: alpha as a point, its 95% interval as a bar, and a line at
    zero (what chance alone gives).  Chance itself is a different scale (a frequency), so
    it is written beside the row, not drawn as alpha."""
    from matplotlib.figure import Figure

    rows = report.desiderata if report is not None else ()
    fig = Figure(figsize=(WIDTH, 1.6 + 0.42 * max(len(rows), 4)), dpi=DPI)
    title = CHARTS["alpha"]
    if report is None or not rows or all(d.counted == 0 for d in rows):
        scope = f" ({_scope_words(report.scope)})" if report is not None else ""
        return _no_data(fig, title, f"no case history decides any desideratum yet{scope}")
    ax = fig.add_subplot()
    ys = list(range(len(rows)))[::-1]  # the first desideratum at the top
    lows = [d.low if d.low is not None else d.alpha for d in rows if d.alpha is not None]
    left = min([-1.0, *(x for x in lows if x is not None)])
    for y, d in zip(ys, rows, strict=True):
        if d.alpha is None:
            ax.text(0.0, y, f" {NO_DATA}", va="center", ha="left", color="#777777",
                    fontsize=9)
            continue
        low = d.low if d.low is not None else d.alpha
        high = d.high if d.high is not None else d.alpha
        # the interval as its own line with end marks: it need not be centred on alpha
        # (and with few histories may not even contain it)
        ax.plot([low, high], [y, y], color=PALETTE[0], linewidth=1.5, marker="|",
                markersize=9)
        ax.plot([d.alpha], [y], color=PALETTE[0], marker="o", markersize=6, linestyle="")
        ax.text(1.03, y, f"{d.held}/{d.counted} held, chance {d.chance:.2f}",
                va="center", ha="left", fontsize=8, color="#444444",
                transform=ax.get_yaxis_transform())
    ax.axvline(0.0, color="#333333", linewidth=1, linestyle="--")
    ax.set_yticks(ys, [desideratum_words(d.desideratum) for d in rows], fontsize=9)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(left - 0.05, 1.05)
    ax.set_xlabel("alpha: 0 = no better than chance, 1 = held every time, "
                  "below 0 = worse than chance")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    unit = "vendor histories" if report.unit == "vendor" else "case histories"
    left_out = sum(report.left_out.values())
    ax.set_title(f"{title}\n{report.histories} {unit}, {_scope_words(report.scope)}"
                 + (f"; {left_out} undecided checks left out" if left_out else ""),
                 fontsize=11)
    fig.subplots_adjust(left=0.38, right=0.78, top=0.9 if len(rows) > 6 else 0.85,
                        bottom=0.12 if len(rows) > 6 else 0.2)
    return fig


def _measure_order(names: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(names))
    known = [m for m in MEASURES if m in seen]
    return known + sorted(m for m in seen if m not in MEASURES)


def timing_figure(report: TimingReport | None) -> Figure:
    """A box plot per measure (days, all cases), each case's duration as a dot over it,
    and the count and median in the label."""
    from matplotlib.figure import Figure

    overall = [d for d in (report.overall if report is not None else ()) if d.group == "all"]
    if report is not None and not overall:
        overall = list(report.overall)
    by_measure = {d.measure: d for d in overall}
    order = _measure_order(by_measure)
    fig = Figure(figsize=(WIDTH, 1.8 + 0.8 * max(len(order), 3)), dpi=DPI)
    title = CHARTS["timing"]
    if not order or all(not by_measure[m].days for m in order):
        return _no_data(fig, title, "no case has reached these steps yet")
    ax = fig.add_subplot()
    labels, ys = [], []
    for i, measure in enumerate(order):
        dist = by_measure[measure]
        y = len(order) - 1 - i
        ys.append(y)
        if not dist.days:
            labels.append(f"{measure}\n({NO_DATA})")
            continue
        labels.append(f"{measure}\n{dist.count} measured, median {dist.median:.1f} days")
        ax.boxplot([list(dist.days)], positions=[y], orientation="horizontal", widths=0.5,
                   showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "#dbe9f6", "edgecolor": PALETTE[0]},
                   medianprops={"color": PALETTE[5], "linewidth": 2},
                   whiskerprops={"color": PALETTE[0]}, capprops={"color": PALETTE[0]})
        # A fixed spread (no random numbers) so the same data draws the same dots.
        jitter = [((k * 0.618034) % 1.0 - 0.5) * 0.3 for k in range(dist.count)]
        ax.scatter(list(dist.days), [y + j for j in jitter], s=12, color="#333333",
                   alpha=0.6, zorder=3)
    ax.set_yticks(ys, labels, fontsize=9)
    ax.set_ylim(-0.7, len(order) - 0.3)
    ax.set_xlim(left=0)
    ax.set_xlabel("days from the report")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    e = report.embargoes if report is not None else None
    sub = (f"\nembargoes: {e.kept} kept, {e.extended} extended, {e.broken} broken"
           if e is not None else "")
    ax.set_title(title + sub, fontsize=11)
    fig.subplots_adjust(left=0.27, right=0.96, top=0.86, bottom=0.14)
    return fig


def findings_figure(report: TimingReport | None) -> Figure:
    """Stacked bars, one per month: the most frequent problems each in a colour, the rest
    together as "other".  Months without findings between the first and last are shown
    as empty bars, so the time axis is even."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, 5.0), dpi=DPI)
    title = CHARTS["findings"]
    rows = [(m, p, n) for m, p, n in (report.findings_per_month if report else ()) if n > 0]
    if not rows:
        return _no_data(fig, title, "no troubleshooting findings in this period")
    totals: dict[str, int] = defaultdict(int)
    for _, problem, count in rows:
        totals[problem] += count
    ranked = sorted(totals, key=lambda p: (-totals[p], p))
    # one problem left over is named; "other" gathers two or more
    top = ranked if len(ranked) <= TOP_PROBLEMS + 1 else ranked[:TOP_PROBLEMS]
    months = _month_range(min(m for m, _, _ in rows), max(m for m, _, _ in rows))
    table: dict[str, list[int]] = {p: [0] * len(months) for p in [*top, "other"]}
    index = {m: i for i, m in enumerate(months)}
    for month, problem, count in rows:
        if month in index:
            table[problem if problem in top else "other"][index[month]] += count
    if not any(table["other"]):
        del table["other"]
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    bottom = [0] * len(months)
    for k, (problem, counts) in enumerate(table.items()):
        colour = OTHER_COLOUR if problem == "other" else PALETTE[k % len(PALETTE)]
        ax.bar(xs, counts, bottom=bottom, color=colour, label=problem, width=0.8)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    step = max(1, len(months) // 12)
    ax.set_xticks(xs[::step], months[::step], rotation=45, ha="right", fontsize=9)
    pad = max(0.0, (6 - len(months)) / 2)  # a month or two: bars of a usual width
    ax.set_xlim(-0.6 - pad, len(months) - 0.4 + pad)
    ax.set_ylabel("findings raised")
    ax.set_xlabel("month")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()  # listed top down, as stacked
    ax.legend(handles[::-1], labels[::-1], title="problem", fontsize=8, title_fontsize=9,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(f"{title}\n{sum(totals.values())} findings, {len(totals)} problems",
                 fontsize=11)
    fig.subplots_adjust(left=0.08, right=0.7, top=0.86, bottom=0.2)
    return fig


def _month_range(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from ``first`` to ``last``; months that do not parse are shown as
    given, in order."""
    try:
        y, m = (int(x) for x in first.split("-"))
        end = tuple(int(x) for x in last.split("-"))
    except ValueError:
        return sorted({first, last})
    out = []
    while (y, m) <= end and len(out) < 600:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# ---------------------------------------------------------------- to bytes
def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG (see the module's docstring on determinism)."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}")
    buffer = io.BytesIO()
    params = {"svg.hashsalt": _SALT, "svg.fonttype": "none"}
    with _LOCK, matplotlib.rc_context(params):
        if fmt == "svg":
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            fig.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    return _presentation_attributes(data.decode("utf-8")).encode() if fmt == "svg" else data


_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>(.*?)</style>", re.S)
_SVG_OPEN = re.compile(r"<svg ")


def _declarations(css: str) -> str:
    out = []
    for part in css.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            out.append(f' {name.strip()}="{value.strip()}"')
    return "".join(out)


def _presentation_attributes(svg: str) -> str:
    """Matplotlib's ``style="fill: #fff; stroke: ..."`` as ``fill="#fff" stroke=...``,
    and its one ``<style>`` rule (``*{stroke-linejoin: round; ...}``: properties that are
    inherited) as attributes of the root element.  Every property matplotlib writes this
    way is also an SVG presentation attribute."""
    root_css = ""
    match = _STYLE_ELEMENT.search(svg)
    if match:
        rule = match.group(1)
        root_css = rule[rule.find("{") + 1:rule.rfind("}")] if "{" in rule else ""
        svg = svg[:match.start()] + svg[match.end():]
    svg = _STYLE_ATTR.sub(lambda m: _declarations(m.group(1)), svg)
    svg = svg.replace("<defs>\n </defs>\n", "").replace(" <defs>\n </defs>\n", "")
    return _SVG_OPEN.sub(lambda _m: f"<svg{_declarations(root_css)} ", svg, count=1)


def figures(skill: SkillReport | None, timing: TimingReport | None) -> dict[str, Figure]:
    return {"alpha": alpha_figure(skill), "timing": timing_figure(timing),
            "findings": findings_figure(timing)}


def chart(name: str, fmt: str, skill: SkillReport | None,
          timing: TimingReport | None) -> bytes:
    """One chart (a key of ``CHARTS``) in one format."""
    draw = {"alpha": lambda: alpha_figure(skill), "timing": lambda: timing_figure(timing),
            "findings": lambda: findings_figure(timing)}[name]
    with _LOCK:
        return figure_bytes(draw(), fmt)


def charts(skill: SkillReport | None, timing: TimingReport | None,
           formats: Iterable[str] = FORMATS) -> dict[str, bytes]:
    """Every chart in every format, by file name ("alpha.svg", ...)."""
    wanted = list(dict.fromkeys(formats))
    with _LOCK:
        return {f"{name}.{fmt}": figure_bytes(fig, fmt)
                for name, fig in figures(skill, timing).items() for fmt in wanted}
