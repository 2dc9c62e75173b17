"""The charts of issue 12 (Plots): PNG and SVG from the report values, the same bytes for
the same data, text kept as text, "no data" instead of a crash, and the command that
writes them (``cvdesk metrics plot``)."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from cvdesk.metrics import plots
from cvdesk.metrics.views import (
    DesideratumSkill,
    Distribution,
    EmbargoCounts,
    SkillReport,
    TimingReport,
)
from cvdesk.services import metrics_charts
from tests.conftest import Cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
NAMES = ("V<P", "V<X", "V<A", "F<P", "F<X", "F<A", "D<P", "D<X", "D<A", "P<X", "P<A", "X<A")


def skill_report(*, empty: str = "F<A") -> SkillReport:
    rows = []
    for i, name in enumerate(NAMES):
        if name == empty:
            rows.append(DesideratumSkill(name, 0, 0, 0.5, None, None, None, None))
            continue
        alpha = (i - 4) / 8
        rows.append(DesideratumSkill(name, i, 12, 0.3 + i / 30, 0.5, alpha, alpha - 0.3,
                                     min(1.0, alpha + 0.25)))
    return SkillReport("vendor", {"since": "2026-01-01", "until": None, "vendor": None}, 40,
                       tuple(rows), {"case still open": 3})


def timing_report() -> TimingReport:
    overall = (Distribution("acknowledgement", "all", (1.0, 2.0, 3.0, 0.5, 7.0)),
               Distribution("first reply", "all", (3.0, 5.0, 9.0, 30.0)),
               Distribution("fix ready", "all", ()),
               Distribution("publication", "all", (40.0, 90.0, 120.0, 45.0)))
    problems = [f"problem-{k}" for k in range(10)]
    per_month = tuple((f"2026-{m:02d}", p, (m + k) % 4) for m in (1, 2, 3, 6)
                      for k, p in enumerate(problems))
    return TimingReport(overall, (Distribution("acknowledgement", "Acme", (1.0,)),), (),
                        EmbargoCounts(3, 1, 2), (("problem-1", 9),), per_month)


def texts(svg: bytes) -> list[str]:
    """The text of every <text> element: with svg.fonttype "none" labels stay text."""
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_png_and_svg_of_each_chart() -> None:
    drawn = plots.charts(skill_report(), timing_report())
    assert sorted(drawn) == sorted(f"{n}.{f}" for n in plots.CHARTS for f in ("png", "svg"))
    for name, data in drawn.items():
        if name.endswith(".png"):
            assert data.startswith(PNG_SIGNATURE), name
        else:
            assert ET.fromstring(data).tag == f"{SVG}svg", name


def test_alpha_chart_names_each_desideratum_in_words_and_marks_no_data() -> None:
    words = texts(plots.chart("alpha", "svg", skill_report(), None))
    joined = "\n".join(words)
    assert plots.CHARTS["alpha"] in joined
    for name in NAMES:
        assert any(w.startswith(name + " ") for w in words), name
    assert "V<P  vendor aware before public aware" in words
    assert "no data" in " ".join(words)  # F<A was decided by no history
    assert "alpha: 0 = no better than chance" in joined  # the axis says what 0 means
    assert "3/12 held, chance 0.40" in words  # chance is written, not drawn as alpha


def test_alpha_chart_line_at_zero_and_interval_bars() -> None:
    svg = plots.chart("alpha", "svg", skill_report(), None).decode()
    assert 'stroke-dasharray' in svg  # the dashed line at zero


def test_timing_and_findings_charts_say_what_they_show() -> None:
    timing = texts(plots.chart("timing", "svg", None, timing_report()))
    assert plots.CHARTS["timing"] in "\n".join(timing)
    assert "days from the report" in timing
    assert "acknowledgement" in "\n".join(timing) and "(no data)" in "\n".join(timing)
    assert any("embargoes: 3 kept, 1 extended, 2 broken" in t for t in timing)
    findings = texts(plots.chart("findings", "svg", None, timing_report()))
    joined = "\n".join(findings)
    assert plots.CHARTS["findings"] in joined and "findings raised" in findings
    # the top problems by count have a colour of their own, the rest are "other"
    assert "other" in findings and "problem-1" in findings
    assert sum(w.startswith("problem-") for w in findings) == plots.TOP_PROBLEMS
    # the months between the first and the last are on the axis, empty or not
    assert {"2026-01", "2026-04", "2026-05", "2026-06"} <= set(findings)


def test_same_data_same_bytes() -> None:
    first = plots.charts(skill_report(), timing_report())
    again = plots.charts(skill_report(), timing_report())
    assert first == again
    assert b"<dc:date>" not in first["alpha.svg"]


def test_svg_has_no_inline_styles() -> None:
    """The desk's content security policy forbids inline styles: every style is a
    presentation attribute instead."""
    for name, data in plots.charts(skill_report(), timing_report(), ["svg"]).items():
        text = data.decode()
        assert not re.search(r"\sstyle=", text), name
        assert "<style" not in text, name
        assert ET.fromstring(data).get("stroke-linejoin") == "round"


@pytest.mark.parametrize("skill,timing", [
    (None, None),
    (SkillReport("case", {}, 0, (), {}), TimingReport((), (), (), EmbargoCounts(0, 0, 0),
                                                      (), ())),
    (SkillReport("vendor", {}, 0, tuple(DesideratumSkill(n, 0, 0, 0.5, None, None, None, None)
                                        for n in NAMES), {"case still open": 4}),
     TimingReport(tuple(Distribution(m, "all", ()) for m in plots.MEASURES), (), (),
                  EmbargoCounts(0, 0, 0), (), (("2026-01", "x", 0),))),
])
def test_empty_data_says_no_data(skill: SkillReport | None,
                                 timing: TimingReport | None) -> None:
    drawn = plots.charts(skill, timing)
    for name in plots.CHARTS:
        assert drawn[f"{name}.png"].startswith(PNG_SIGNATURE)
        words = texts(drawn[f"{name}.svg"])
        assert any(w.startswith("no data") for w in words), name
        assert plots.CHARTS[name] in words, name


def test_an_unknown_format_is_refused_naming_the_field() -> None:
    with pytest.raises(metrics_charts.InvalidInput) as caught:
        metrics_charts.parse_formats(["png", "gif"])
    assert caught.value.field == "format" and "gif" in caught.value.problem
    assert metrics_charts.parse_formats([]) == ("png", "svg")
    assert metrics_charts.parse_formats(["SVG", "svg"]) == ("svg",)


def test_the_service_remembers_a_drawn_chart_for_its_ttl() -> None:
    calls = []

    class Skill:
        def skill(self, **scope: object) -> SkillReport:
            calls.append(scope)
            return skill_report()

    class Desk:
        def metrics(self) -> Skill:
            return Skill()

    now = [0.0]
    service = metrics_charts.MetricsCharts(Desk(), ttl=60, monotonic=lambda: now[0])
    from cvdesk.domain.accounts import Principal, SiteRole

    staff = Principal(user_id=1, name="c", site_role=SiteRole.COORDINATOR)
    first = service.chart(staff, "alpha", since="2026-01-01")
    assert service.chart(staff, "alpha", since="2026-01-01") == first and len(calls) == 1
    service.chart(staff, "alpha", since="2026-02-01")  # another scope is drawn anew
    now[0] = 61.0
    service.chart(staff, "alpha", since="2026-01-01")
    assert len(calls) == 3
    assert calls[0] == {"since": date(2026, 1, 1), "until": None,
                        "vendor": None}


def test_plot_command_refuses_a_bad_format(cli_runner: Cli, tmp_path: Path) -> None:
    code, _out, err = cli_runner("metrics", "plot", "--out", str(tmp_path / "c"),
                                 "--format", "gif")
    assert code == 2
    assert "format" in err and "gif" in err
    assert not (tmp_path / "c").exists()


def test_plot_command_writes_the_charts(demo_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    printed = demo_cli.ok("metrics", "plot", "--out", str(out))
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}.{f}" for n in plots.CHARTS for f in ("png", "svg"))
    assert all(str(out / n) in printed for n in names)
    assert (out / "alpha.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "V<P  vendor aware before public aware" in texts((out / "alpha.svg").read_bytes())
    listed = demo_cli.json("metrics", "plot", "--out", str(out), "--format", "svg")
    assert listed == {"written": [str(out / f"{n}.svg") for n in plots.CHARTS]}
    json.dumps(listed)


def test_matplotlib_is_loaded_only_to_draw() -> None:
    """The metrics commands and the web app import the plots' names, not matplotlib."""
    import subprocess
    import sys

    script = ("import sys\nimport cvdesk.cli.metrics_plot, cvdesk.services.metrics_charts\n"
              "import cvdesk.web.pages_metrics\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('matplotlib', 'numpy')))\n")
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                          text=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("vendor", ["$\\frac{$", "$x^$", "$\\alpha$", "ctl\x1b[2J\u202e", "a$b"])
def test_a_vendors_name_is_drawn_as_it_is(vendor: str) -> None:
    """Vendor names come from strangers' reports.  matplotlib read a pair of dollar signs
    as math: '$\\frac{$' stopped the chart with a parse error (the web chart answered
    500), '$\\alpha$' drew a Greek letter; a control character made the SVG invalid XML."""
    from cvdesk.domain.safetext import visible

    report = dataclasses.replace(skill_report(), scope={"since": None, "until": None,
                                                        "vendor": vendor})
    drawn = plots.charts(report, timing_report())
    words = " ".join(texts(drawn["alpha.svg"]))  # parses: valid XML
    assert f"vendor {visible(vendor, layout=False)}" in words
