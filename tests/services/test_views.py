"""Issue 9, the faces' contract: queries return frozen views with one JSON form each.

Every public method of the case and doctor services is classified below as a query (it
must return frozen views holding no ORM row) or as something else, with the reason; a
new public method fails ``test_every_public_method_is_classified`` until it is placed.
The CLI's ``--json`` must print exactly a view's ``to_json()``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from cvdesk.domain.safetext import json_text
from cvdesk.services import CaseService
from cvdesk.services import views as views_module
from cvdesk.services.doctor import DoctorService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from cvdesk.store.findings import ACKNOWLEDGED
from tests.conftest import Cli, Clock

Query = Callable[[CaseService, DoctorService, str], Any]

#: Queries, each called on a demo case id.
QUERIES: dict[str, Query] = {
    "CaseService.list_cases": lambda svc, doc, cid: svc.list_cases(None),
    "CaseService.show": lambda svc, doc, cid: svc.show(cid),
    "CaseService.timeline": lambda svc, doc, cid: svc.timeline(cid),
    "CaseService.report": lambda svc, doc, cid: svc.report(svc.show(cid).reports[0].tracking_id),
    "DoctorService.current": lambda svc, doc, cid: doc.current(at=svc.clock(),
                                                                show_handled=True),
    "DoctorService.preview": lambda svc, doc, cid: doc.preview(at=svc.clock()),
    "DoctorService.sweep": lambda svc, doc, cid: doc.sweep(show_handled=True),
}

#: Public methods that are not queries for faces, and why.
NOT_VIEWS = {
    "CaseService.replay": "the domain aggregate rebuilt from the log, for services that "
                          "judge or package a case and for audits; no face shows it",
    "CaseService.when": "plumbing: the time of a command",
    "CaseService.actor": "plumbing: who acts",
    "CaseService.case": "plumbing: a unit of work for several commands",
    "DoctorService.run_sweep": "a command; returns how many cases it checked",
    "CaseService.refile_word_order": "a command; returns how many reports it re-indexed",
    "DoctorService.handle": "a command; returns the handled finding (a view, checked below)",
    **{f"CaseService.{name}": "a command" for name in (
        "submit_report", "submit_report_file", "add_participant", "rm", "propose_embargo",
        "embargo", "consent", "record_cs", "contact_attempt", "contact_reply", "log_message",
        "observe", "set_policy", "add_vulnerability", "close", "note")},
    **{f"CaseService.{name}": "a command; returns what it changed as a view (issue 10)"
       for name in ("update_vulnerability", "record_statement", "confirm_statement")},
}


def public_methods(cls: type) -> set[str]:
    return {f"{cls.__name__}.{name}" for name, value in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(value)}


def test_every_public_method_is_classified() -> None:
    methods = public_methods(CaseService) | public_methods(DoctorService)
    assert not set(QUERIES) & set(NOT_VIEWS)
    unplaced = methods - set(QUERIES) - set(NOT_VIEWS)
    assert not unplaced, f"classify these as QUERIES or NOT_VIEWS: {sorted(unplaced)}"
    assert set(QUERIES) | set(NOT_VIEWS) <= methods, "a listed method no longer exists"


def reachable(value: Any, path: str = "view") -> Iterator[tuple[str, Any]]:
    """Every value inside a view: dataclass fields, container items and dict keys."""
    yield path, value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from reachable(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from reachable(k, f"{path}[{k!r}]")
            yield from reachable(v, f"{path}[{k!r}]")
    elif isinstance(value, list | tuple | set | frozenset):
        for i, v in enumerate(value):
            yield from reachable(v, f"{path}[{i}]")


def check_view(view: Any) -> None:
    """Frozen (assignment refused) with slots, no ORM row anywhere inside, no list or set
    attribute a caller could change, and a ``to_json()`` of plain JSON data."""
    assert type(view).__module__ == views_module.__name__, type(view)
    for path, value in reachable(view):
        assert sa_inspect(value, raiseerr=False) is None, f"{path} is an ORM object"
        assert not type(value).__module__.startswith("cvdesk.store"), path
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            assert type(value).__dataclass_params__.frozen, path  # type: ignore[attr-defined]
            name = dataclasses.fields(value)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(value, name, None)
            if type(value).__module__ == views_module.__name__:
                assert "__slots__" in vars(type(value)), path
                for f in dataclasses.fields(value):
                    assert not isinstance(getattr(value, f.name), list | set), \
                        f"{path}.{f.name} is mutable"
    data = view.to_json()
    assert json.loads(json.dumps(data)) == data  # strings, numbers, lists, dicts only


@pytest.fixture
def doctor(demo_service: CaseService) -> DoctorService:
    return DoctorService(demo_service.db, demo_service.settings, clock=demo_service.clock)


@pytest.mark.parametrize("query", list(QUERIES))
def test_queries_return_frozen_views_without_orm_rows(
        demo_service: CaseService, doctor: DoctorService, query: str) -> None:
    doctor.sweep()  # stored findings for current()
    case_ids = [c.case_id for c in demo_service.list_cases(None)]
    assert len(case_ids) == 16
    if query.startswith("DoctorService") or query == "CaseService.list_cases":
        case_ids = case_ids[:1]  # these do not depend on the case
    for case_id in case_ids:
        result = QUERIES[query](demo_service, doctor, case_id)
        check_view(result)
        if query.startswith("DoctorService"):
            assert result.findings and result.next_checks


def test_a_handled_finding_is_a_view(demo_service: CaseService, doctor: DoctorService,
                                     clock: Clock) -> None:
    first = doctor.sweep().findings[0]
    assert first.id is not None
    check_view(doctor.handle(first.id, ACKNOWLEDGED, reason="on it", actor="t"))


def test_json_keys_are_those_the_cli_printed_before(demo_service: CaseService) -> None:
    """The JSON forms moved from the CLI into the views without renaming a key."""
    cases = demo_service.list_cases(None)
    assert list(cases.to_json()[0]) == [
        "case_id", "title", "tlp", "status", "em_state", "pxa", "participants_count",
        "vendors_count", "opened_at", "closed_at", "last_event_at", "version", "embargo_end",
        "proposed_end"]
    shown = next(demo_service.show(c.case_id) for c in cases
                 if demo_service.show(c.case_id).vulnerabilities)
    data = shown.to_json()
    # issue 10 added the vendor statements after them
    assert list(data)[-4:] == ["participants", "reports", "vulnerabilities", "statements"]
    assert list(data["participants"][0]) == [
        "pid", "name", "roles", "organization", "email", "phone", "rm_state", "consent", "vfd",
        "first_attempt_at", "last_attempt_at", "last_attempt_outcome", "attempts", "channels",
        "first_reply_at", "last_reply_at", "replies", "added_at"]
    assert list(data["reports"][0]) == ["tracking_id", "received_at", "title", "tlp"]
    assert data["vulnerabilities"][0] == shown.vulnerabilities[0].data
    assert list(demo_service.timeline(shown.case.case_id).to_json()[0]) == [
        "seq", "at", "type", "actor", "participant", "reason", "data"]


# ------------------------------------------------------------------ the command line
@pytest.fixture
def desk(demo_cli: Cli) -> Iterator[tuple[CaseService, DoctorService]]:
    """Services on the database the command line uses."""
    assert demo_cli.url
    database = Database(demo_cli.url)
    settings = load_settings(database_url=demo_cli.url)
    yield CaseService(database, settings), DoctorService(database, settings)
    database.dispose()


def printed(view_json: Any) -> str:
    return json_text(view_json) + "\n"


def test_case_json_on_the_command_line_is_the_view(
        demo_cli: Cli, desk: tuple[CaseService, DoctorService]) -> None:
    svc, _ = desk
    cases = svc.list_cases("open")
    assert demo_cli.ok("case", "list", "--json") == printed(cases.to_json())
    assert demo_cli.ok("case", "list", "--status", "all", "--json") == printed(
        svc.list_cases(None).to_json())
    for case in svc.list_cases(None):
        cid = case.case_id
        view = svc.show(cid)
        assert demo_cli.ok("case", "show", cid.lower(), "--json") == printed(view.to_json())
        assert demo_cli.ok("participant", "list", cid, "--json") == printed(
            [p.to_json() for p in view.participants])
        assert demo_cli.ok("case", "timeline", cid, "--json") == printed(
            svc.timeline(cid).to_json())


def test_doctor_json_on_the_command_line_is_the_view(
        demo_cli: Cli, desk: tuple[CaseService, DoctorService]) -> None:
    svc, doctor = desk
    at = svc.clock().replace(microsecond=0) - timedelta(days=3)
    preview = doctor.preview(at=at)
    assert preview.findings
    assert demo_cli.ok("doctor", "--at", at.isoformat(), "--json") == printed(
        preview.to_json())
    demo_cli.ok("doctor")  # stores the findings
    current = doctor.current(at=svc.clock(), show_handled=True)
    assert demo_cli.ok("finding", "list", "--json") == printed(
        [f.to_json() for f in current.findings])
