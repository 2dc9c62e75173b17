"""The files of ``publish --out`` are part of the publication (issue 10 Tests): a
failure while writing them leaves no P, no revision, no stored document and no queued
notice, and no stray file; a failure after the commit (the rename into place) says the
publication stands and names the files that are missing.  Both backends."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from tests.conftest import table_counts

FREE = "CVD-2026-0014"  # no embargo: publishing is allowed at once


@pytest.fixture
def svc(demo_service: CaseService) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


@pytest.fixture
def pub(svc: CaseService) -> PublicationService:
    return PublicationService(svc)


def _unchanged(svc: CaseService, before: dict[str, int], out: Path, left: set[str]) -> None:
    assert table_counts(svc.db.url) == before  # events, cases, documents, outbox
    case = svc.replay(FREE)
    assert CSEvent.P not in case.pxa and not case.publications
    assert {p.name for p in out.iterdir()} == left  # no staging folder, no stray file


def test_a_directory_at_a_files_name_publishes_nothing(
        svc: CaseService, pub: PublicationService, tmp_path: Path) -> None:
    out = tmp_path / "out"
    names = [d.filename for d in pub.draft(FREE, ["csaf", "markdown"]).documents]
    (out / names[-1]).mkdir(parents=True)
    before = table_counts(svc.db.url)
    with pytest.raises(InvalidInput) as refused:
        pub.publish(FREE, ["csaf", "markdown"], out_dir=out)
    assert refused.value.field == "output directory"
    assert names[-1] in refused.value.problem and "nothing was published" in refused.value.problem
    _unchanged(svc, before, out, {names[-1]})


def test_a_full_disk_while_writing_publishes_nothing(
        svc: CaseService, pub: PublicationService, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import cvdesk.services.publication_files as module

    real, calls = module.write_private, []

    def full(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(module, "write_private", full)
    out = tmp_path / "out"
    before = table_counts(svc.db.url)
    with pytest.raises(InvalidInput) as refused:
        pub.publish(FREE, ["csaf", "markdown"], out_dir=out)
    assert "No space left" in refused.value.problem
    _unchanged(svc, before, out, set())


def test_a_failed_rename_after_the_commit_keeps_the_publication_and_names_the_files(
        svc: CaseService, pub: PublicationService, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    real = os.replace

    def refuse_markdown(src: Path, dst: Path) -> None:
        if str(dst).endswith(".md"):
            raise OSError(errno.EACCES, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_markdown)
    out = tmp_path / "out"
    with pytest.raises(InvalidInput) as failed:
        pub.publish(FREE, ["csaf", "markdown"], out_dir=out)
    monkeypatch.undo()
    text = failed.value.problem
    assert "is published and stored" in text and ".md" in text
    case = svc.replay(FREE)
    assert CSEvent.P in case.pxa and len(case.publications) == 1
    left = {p.name for p in out.iterdir()}
    assert not any(n.endswith(".md") or n.startswith(".cvdesk") for n in left)
    assert any(n.endswith(".json") for n in left)
