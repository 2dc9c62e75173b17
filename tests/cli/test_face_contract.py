"""Issue 9, one contract for every face: what the CLI used to do itself (format and write
an export, name finding actions) is a service call any face can make the same way."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cvdesk.domain.errors import DomainError, InvalidInput
from cvdesk.domain.model import ContactKind
from cvdesk.services.contacts import ContactService
from cvdesk.services.doctor import FindingAction
from cvdesk.settings import load_settings
from cvdesk.store.db import Database


def test_contact_export_file_is_private_and_counts(db: Database, tmp_path: Path) -> None:
    svc = ContactService(db, load_settings(database_url=db.url))
    svc.add("Acme", ContactKind.EMAIL, "psirt@acme.example")
    svc.add("Acme", ContactKind.URL, "https://acme.example/\u202esecurity")
    old = os.umask(0o022)
    try:
        assert svc.export_file(tmp_path / "dir.csv", "csv") == 2
        assert svc.export_file(tmp_path / "dir.json", "json") == 2
    finally:
        os.umask(old)
    for name in ("dir.csv", "dir.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert (tmp_path / "dir.csv").read_text().startswith("organization,kind,value,source")
    assert "\\u202e" in (tmp_path / "dir.json").read_text()  # bidi shown, not hidden
    text, count = svc.export_text("json")
    assert count == 2 and text == (tmp_path / "dir.json").read_text()


def test_unknown_export_format_is_named_in_domain_words(db: Database, tmp_path: Path) -> None:
    svc = ContactService(db, load_settings(database_url=db.url))
    with pytest.raises(InvalidInput) as caught:
        svc.export_file(tmp_path / "dir.xml", "xml")
    assert caught.value.field == "format"
    assert not (tmp_path / "dir.xml").exists()


def test_finding_actions_are_the_statuses_they_leave() -> None:
    assert [a.value for a in FindingAction] == ["acknowledged", "snoozed"]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_report_file_is_submitted_by_the_service(service) -> None:  # type: ignore[no-untyped-def]
    result = service.submit_report_file(EXAMPLES / "report.yaml")
    assert service.show(result.case_id).case.case_id == result.case_id
    with pytest.raises(DomainError, match="report form"):  # a domain error, exit 2
        service.submit_report_file(EXAMPLES / "missing.yaml")


def test_the_desk_hands_out_services_over_one_database(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    from cvdesk.app import Desk

    desk = Desk(load_settings(database_url=db.url, actor="t"), clock=clock, database=db)
    assert desk.db is db
    for svc in (desk.cases(), desk.doctor(), desk.contacts(), desk.worker()):
        assert svc.db is db and svc.clock is clock
    assert desk.mail().cases.db is db and desk.inbound().db is db
    assert "://" in desk.database_label()


def test_the_desk_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    from cvdesk.app import Desk
    from cvdesk.services.database import DatabaseNotReady

    desk = Desk(load_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        with pytest.raises(DatabaseNotReady):
            desk.contacts()
        desk.init_database()
        assert desk.contacts().export_text("json") == ("[]\n", 0)
    finally:
        desk.close()


def test_a_bad_form_is_reported_before_the_database_is_needed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from cvdesk.cli.main import main

    monkeypatch.setenv("CVDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'never-created.db'}")
    assert main(["report", "submit", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "never-created.db").exists()
