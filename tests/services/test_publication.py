"""Drafting advisories from cases (issue 10): every demo case, every format, validated by
the writers before anything is written; refused input names the field."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cvdesk.domain.errors import InvalidInput
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import AdvisoryFormat, PublicationService
from tests.conftest import Cli


@pytest.fixture
def pub(demo_service: CaseService) -> PublicationService:
    return PublicationService(demo_service)


def test_every_demo_case_drafts_in_every_format(pub: PublicationService,
                                                demo_service: CaseService,
                                                tmp_path: Path) -> None:
    cases = demo_service.list_cases(None)
    assert len(cases) == 16
    for summary in cases:
        out = tmp_path / summary.case_id
        view = pub.draft(summary.case_id, list(AdvisoryFormat), out_dir=out)
        assert view.status == "draft" and view.version == "0"
        formats = {d.format for d in view.documents}
        assert {"csaf", "csaf-vex", "markdown", "html"} <= formats
        for doc in view.documents:
            path = Path(doc.path or "")
            assert path.read_bytes() == doc.content
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            if doc.filename.endswith(".json"):
                json.loads(doc.content)
        # Every vulnerability has a CVE record, or the draft says why it has none.
        cve_said = [s for s in (*view.skipped, *view.refused) if s.startswith("cve:")]
        assert len([d for d in view.documents if d.format == "cve"]) + len(cve_said) >= 1
        assert not [r for r in view.refused if not r.startswith("cve:")], view.refused
        names = [d.filename for d in view.documents]
        assert len(names) == len(set(names)), "two documents would share a file"
        csaf = [d for d in view.documents if d.format == "csaf"]
        assert set(names) >= {csaf[0].filename + ".sha256", csaf[0].filename + ".sha512"}


def test_a_draft_names_the_case_and_its_title(pub: PublicationService,
                                              demo_service: CaseService) -> None:
    first = demo_service.list_cases(None)[0]
    view = pub.draft(first.case_id, ["markdown"])
    [doc] = view.documents
    assert first.title in doc.content.decode("utf-8")
    assert doc.path is None


def test_a_format_that_refuses_is_reported_and_the_others_are_written(
        pub: PublicationService, demo_service: CaseService, tmp_path: Path) -> None:
    first = demo_service.list_cases(None)[0]
    view = pub.draft(first.case_id, ["cve", "markdown"], out_dir=tmp_path)
    if not view.refused:  # the demo case has a CVE with references: nothing to refuse
        return
    assert all(r.startswith("cve: ") for r in view.refused)
    assert [d.format for d in view.documents] == ["markdown"]
    assert (tmp_path / view.documents[0].filename).is_file()


def test_unknown_format_is_refused_naming_the_field(pub: PublicationService,
                                                   demo_service: CaseService) -> None:
    first = demo_service.list_cases(None)[0]
    with pytest.raises(InvalidInput) as err:
        pub.draft(first.case_id, ["pdf"])
    assert err.value.field == "format" and "csaf" in err.value.problem


def test_cli_draft_exit_codes_and_json(demo_cli: Cli, tmp_path: Path) -> None:
    listed = demo_cli.json("case", "list", "--status", "all")
    case_id = listed[0]["case_id"]
    code, _, err = demo_cli("advisory", "draft", case_id, "--format", "pdf")
    assert code == 2 and "format" in err
    code, _, _ = demo_cli("advisory", "draft", "CVD-1999-0001")
    assert code == 4
    data = demo_cli.json("advisory", "draft", case_id, "--format", "csaf", "--format", "html",
                         "--out", str(tmp_path / "out"))
    assert [Path(d["filename"]).suffix for d in data["documents"]] == [
        ".json", ".sha256", ".sha512", ".html"]
    assert all(Path(d["path"]).is_file() for d in data["documents"])
    assert data["refused"] == []
