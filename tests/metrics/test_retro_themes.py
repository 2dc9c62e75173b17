"""Retrospectives aggregated (issue 12; guide 6.9): recurring themes per problem, and
search by words and by problem; ``retro list`` keeps its shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from cvdesk.domain.case import Case
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import TLP, Retrospective, Role
from cvdesk.metrics.themes import NO_PROBLEM, RetroRecord, recurring_themes, terms
from cvdesk.services.cases import CaseService
from cvdesk.services.coordination import CoordinationService
from cvdesk.store.cases import CaseRepository
from cvdesk.store.tables import FindingRow
from tests.conftest import Cli

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_terms_drop_stopwords_and_pair_neighbours() -> None:
    assert terms("We waited too long for the vendor's PSIRT; next time: phone them.") == {
        "waited", "long", "vendor's", "psirt", "phone", "vendor's psirt"}


def test_a_theme_recurs_in_two_cases_of_one_problem() -> None:
    retros = [
        RetroRecord("C1", ("vendor-unreachable",), "security contact bounced",
                    "try the web form sooner"),
        RetroRecord("C2", ("vendor-unreachable", "leak"), "the security contact bounced "
                    "twice", "Try the web form"),
        RetroRecord("C3", ("leak",), "draft leaked", "smaller embargo list"),
        RetroRecord("C4", (), "web form broken", "test the web form"),
        RetroRecord("C5", (), "", "test the web form"),
    ]
    themes = recurring_themes(retros)
    got = {(t.problem, t.term): t.cases for t in themes}
    assert got[("vendor-unreachable", "security contact")] == ("C1", "C2")
    assert got[("vendor-unreachable", "web form")] == ("C1", "C2")
    # "security" alone says no more than the pair found in the same cases
    assert ("vendor-unreachable", "security") not in got
    assert got[(NO_PROBLEM, "web form")] == ("C4", "C5")
    # C2 raised leak too, but "leaked" / "draft" are in one case only
    assert not [t for t in themes if t.problem == "leak"]
    assert [t.term for t in recurring_themes(retros, problem=NO_PROBLEM)] == [
        "web form", "test"]
    assert themes[0].to_json() == {"problem": NO_PROBLEM, "theme": "web form",
                                   "count": 2, "cases": ["C4", "C5"]}


def _cases_with_retros(service: CaseService) -> list[str]:
    ids = []
    with service.db.transaction() as session:
        repo = CaseRepository(session)
        for i, problems in enumerate((["vendor-unreachable"], ["vendor-unreachable", "leak"],
                                      [])):
            case_id = f"CVD-2026-{i + 1:04d}"
            case = Case.open(case_id, f"Case {i}", TLP.AMBER, at=T0, actor="t")
            case.add_participant("Acme", [Role.VENDOR], at=T0, actor="t")
            pk = repo.add(case).id
            if problems:
                session.execute(insert(FindingRow), [
                    {"case_pk": pk, "key": f"{p}:{n}", "problem": p, "severity": 2,
                     "status": "resolved", "data": {}, "first_seen_at": T0,
                     "last_seen_at": T0} for n, p in enumerate(problems)])
            ids.append(case_id)
    coordination = CoordinationService(service)
    texts = [("security contact bounced", "try the web form sooner"),
             ("the security contact bounced twice", "use the web form"),
             ("nothing much", "keep the web form in mind")]
    for case_id, (wrong, differently) in zip(ids, texts, strict=True):
        coordination.add_retrospective(case_id, Retrospective("ok", wrong, differently))
        service.clock.advance(minutes=1)  # type: ignore[attr-defined]
    return ids


def test_search_by_words_and_problem(service: CaseService) -> None:
    ids = _cases_with_retros(service)
    svc = CoordinationService(service)
    by_words = svc.search_retrospectives("web FORM")
    assert [f.retrospective.case_id for f in by_words] == list(reversed(ids))  # newest first
    assert by_words[1].problems == ("leak", "vendor-unreachable")
    leak = svc.search_retrospectives("bounced", problem="leak")
    assert [f.retrospective.case_id for f in leak] == [ids[1]]
    assert [f.retrospective.case_id for f in svc.search_retrospectives(
        problem="vendor-unreachable")] == [ids[1], ids[0]]
    assert [f.retrospective.case_id for f in svc.search_retrospectives(
        problem=NO_PROBLEM)] == [ids[2]]
    assert svc.search_retrospectives("bounced", problem="case-stalled") == []
    # '%' and '_' typed are those characters, not LIKE's wildcards
    assert svc.search_retrospectives("s_curity") == []
    assert svc.search_retrospectives("web%form") == []
    assert [f.retrospective.case_id for f in svc.search_retrospectives(
        "web", case_id=ids[0].lower())] == [ids[0]]
    with pytest.raises(InvalidInput, match="problem: 'no-such' is not a troubleshooting"):
        svc.search_retrospectives(problem="no-such")
    themes = svc.retrospective_themes()
    assert {(t.problem, t.term) for t in themes} >= {
        ("vendor-unreachable", "security contact"), ("vendor-unreachable", "web form")}
    assert [t.term for t in svc.retrospective_themes(problem="leak")] == []


def test_cli_search_themes_and_list(cli: Cli) -> None:
    from cvdesk.services.cases import CaseService
    from cvdesk.settings import load_settings
    from cvdesk.store.db import Database
    from tests.conftest import Clock

    assert cli.url
    db = Database(cli.url)
    try:
        ids = _cases_with_retros(CaseService(db, load_settings(actor="tester"),
                                             clock=Clock(T0 + timedelta(days=30))))
    finally:
        db.dispose()
    found = cli.json("retro", "search", "bounced", "--problem", "leak")
    assert [r["case_id"] for r in found] == [ids[1]]
    assert found[0]["problems"] == ["leak", "vendor-unreachable"]
    assert "vendor-unreachable" in cli.ok("retro", "search", "--problem",
                                          "vendor-unreachable")
    themes = cli.json("retro", "themes", "--problem", "vendor-unreachable")
    assert {"problem": "vendor-unreachable", "theme": "security contact", "count": 2,
            "cases": [ids[0], ids[1]]} in themes
    assert "security contact" in cli.ok("retro", "themes")
    code, _, err = cli("retro", "search", "--problem", "nope")
    assert code == 2 and "problem" in err
    # retro list: the same JSON keys as before (scripts read it)
    listed = cli.json("retro", "list", "bounced")
    assert set(listed[0]) == {"case_id", "went_well", "went_wrong", "do_differently",
                              "author", "created_at"}
