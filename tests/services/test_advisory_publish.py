"""Preview and publication of advisories (issue 10; guide 6.9, 6.10): the draft goes to
the vendors and reporters through the outbox and is logged; a publication is one
transaction (revision, P, end of embargo, documents, notices) or nothing at all."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM
from cvdesk.domain.errors import IllegalTransition, InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.services.cases import CaseService
from cvdesk.services.mail import outbox_entries
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from tests.conftest import Cli, Clock, table_counts

#: demo cases at TEST_NOW (2026-11-02): an embargo ending in 30 days, one ending in 5.
LATER, SOON = "CVD-2026-0013", "CVD-2026-0004"


@pytest.fixture
def svc(demo_service: CaseService) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


@pytest.fixture
def pub(svc: CaseService) -> PublicationService:
    return PublicationService(svc)


def events(svc: CaseService, case_id: str, type_: EventType) -> list[dict[str, object]]:
    with svc.db.sessions() as session:
        from cvdesk.store.cases import CaseRepository

        repo = CaseRepository(session)
        return [e.data for e in repo.events(repo.case_row(case_id).id) if e.type is type_]


# ------------------------------------------------------------------ preview
def test_preview_queues_the_draft_to_vendors_and_reporter_and_logs_it(
        svc: CaseService, pub: PublicationService) -> None:
    now = svc.clock()
    until = now + timedelta(days=10)
    case = svc.replay(LATER)
    wanted = {p.pid for p in case.participants.values()
              if {r.value for r in p.roles} & {"vendor", "reporter"}}
    view = pub.preview(LATER, until=until)
    assert view.new and view.version == 1 and not view.warnings
    queued = [e for e in outbox_entries(svc, case_id=LATER)
              if e.template == "advisory-preview"]
    assert {e.participant for e in queued} | {int(s.split()[0][1:]) for s in view.skipped} \
        == wanted
    assert sorted(e.recipient for e in queued) == sorted(view.recipients)
    [logged] = events(svc, LATER, EventType.ADVISORY_PREVIEWED)
    assert logged["until"] == until.isoformat() and logged["digest"] == view.digest
    assert set(logged["recipients"]) == {e.participant for e in queued}  # type: ignore[arg-type]
    after = svc.replay(LATER)
    assert after.previewed_at == now and after.preview_until == until
    # Each message is in the case log too, with the draft in it.
    drafts = [m for m in events(svc, LATER, EventType.MESSAGE)
              if str(m["subject"]).startswith("Draft advisory 1 for review")]
    assert len(drafts) == len(queued)
    assert all(case.title in str(m["body"]) and "corrections by" in str(m["body"])
               for m in drafts)
    # The same draft with the same deadline again: nothing queued, nothing logged.
    again = pub.preview(LATER, until=until)
    assert not again.new and not again.recipients
    assert len(events(svc, LATER, EventType.ADVISORY_PREVIEWED)) == 1


def test_preview_deadline_must_be_future_and_before_publication(
        svc: CaseService, pub: PublicationService) -> None:
    now = svc.clock()
    before = table_counts(svc.db.url)
    with pytest.raises(InvalidInput) as past:
        pub.preview(LATER, until=now - timedelta(hours=1))
    assert past.value.field == "until" and "not in the future" in past.value.problem
    with pytest.raises(InvalidInput) as late:
        pub.preview(LATER, until=now + timedelta(days=40))
    assert late.value.field == "until" and "after the planned publication" in str(late.value)
    assert table_counts(svc.db.url) == before


def test_preview_warns_when_the_review_window_is_shorter_than_the_policy(
        svc: CaseService, pub: PublicationService) -> None:
    view = pub.preview(SOON, until=svc.clock() + timedelta(days=2))
    assert view.new
    [warning] = view.warnings
    assert "less than the 7 days of review" in warning


# ------------------------------------------------------------------ publish
def test_publish_during_embargo_is_refused_and_writes_nothing(
        svc: CaseService, pub: PublicationService) -> None:
    before = table_counts(svc.db.url)
    with pytest.raises(IllegalTransition) as refused:
        pub.publish(LATER)
    text = str(refused.value)
    assert "2026-12-02T09:00:00+00:00" in text and "early" in text and "reason" in text
    assert "--" not in text  # domain words, not command-line flags
    with pytest.raises(InvalidInput) as no_reason:
        pub.publish(LATER, early=True, reason="  ")
    assert no_reason.value.field == "reason"
    assert table_counts(svc.db.url) == before


def test_publish_early_with_reason_records_p_ends_the_embargo_stores_and_notifies(
        svc: CaseService, pub: PublicationService, tmp_path: Path) -> None:
    case = svc.replay(LATER)
    assert case.em is EM.ACTIVE and CSEvent.P not in case.pxa
    view = pub.publish(LATER, ["csaf", "markdown"], early=True,
                       reason="the vendor shipped the fix and asked to publish",
                       out_dir=tmp_path / "out")
    assert view.version == 1 and view.early and view.recorded_p and view.ended_embargo
    after = svc.replay(LATER)
    assert after.em is EM.EXITED and CSEvent.P in after.pxa
    [published] = after.publications
    assert published.early and published.reason.startswith("the vendor shipped")
    # The documents are stored with their digests, and written (AMBER: owner only).
    [rev] = pub.revisions(LATER)
    assert {d.filename for d in rev.documents} == {d.filename for d in view.documents}
    logged = events(svc, LATER, EventType.ADVISORY_PUBLISHED)[0]
    assert logged["digests"] == {d.filename: d.sha256 for d in view.documents}
    for doc in view.documents:
        path = Path(doc.path or "")
        assert path.read_bytes() == doc.content
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    csaf = json.loads(next(d for d in view.documents if d.format == "csaf").content)
    assert csaf["document"]["tracking"]["status"] == "final"
    assert csaf["document"]["tracking"]["version"] == "1"
    # A notice to every participant with an address.
    notices = [e for e in outbox_entries(svc, case_id=LATER)
               if e.template == "advisory-published"]
    assert len(notices) == len(view.notified) >= 1
    assert len(notices) + len(view.unreachable) == len(after.participants)


def test_second_publication_is_version_2_with_its_history(
        svc: CaseService, pub: PublicationService, clock: Clock) -> None:
    first = pub.publish("CVD-2026-0014", ["csaf"])  # no embargo: allowed
    assert first.version == 1 and not first.early and first.recorded_p
    assert not first.ended_embargo
    clock.advance(days=3)
    assert pub.draft("CVD-2026-0014", ["csaf"]).version == "2"
    second = pub.publish("CVD-2026-0014", ["csaf"], summary="Fix for one more vendor.")
    assert second.version == 2 and not second.recorded_p
    doc = json.loads(second.documents[0].content)
    history = doc["document"]["tracking"]["revision_history"]
    assert [(h["number"], h["summary"]) for h in history] == [
        ("1", "Initial public release."), ("2", "Fix for one more vendor.")]
    assert [r.version for r in pub.revisions("CVD-2026-0014")] == [1, 2]
    # Notices are per version: the second publication notifies again.
    notices = [e for e in outbox_entries(svc, case_id="CVD-2026-0014")
               if e.template == "advisory-published"]
    assert len(notices) == len(first.notified) + len(second.notified)


# ------------------------------------------------------------------ command line
def test_cli_publish_refusal_exit_code_and_list(demo_cli: Cli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@example.org")
    listed = demo_cli.json("case", "list", "--status", "all")
    embargoed = sorted((c["embargo_end"], c["case_id"]) for c in listed
                       if c["em_state"] == "active" and c["status"] == "open")
    free = "CVD-2026-0014"
    before = demo_cli.counts()
    code, _, err = demo_cli("publish", embargoed[-1][1])  # the embargo ending last
    assert code == 3 and "under embargo until" in err and "reason" in err
    assert demo_cli.counts() == before
    code, out, _ = demo_cli("publish", free, "--format", "markdown")
    assert code == 0, out
    assert "version 1" in out
    revisions = demo_cli.json("advisory", "list", free)
    assert [r["version"] for r in revisions] == [1]
    assert revisions[0]["documents"][0]["filename"].endswith(".md")


# ------------------------------------------------------------------ smaller rules
def test_published_files_are_world_readable_only_when_the_tlp_allows(tmp_path: Path) -> None:
    from cvdesk.publish.common import Rendered
    from cvdesk.services.publication_files import _PRIVATE_TLP, _Staged

    assert {"AMBER", "AMBER+STRICT", "RED"} == _PRIVATE_TLP
    for name, public, mode in (("a.json", True, 0o644), ("b.json", False, 0o600)):
        staged = _Staged(None, None, [Rendered("csaf", name, b"{}", "application/json")],  # type: ignore[arg-type]
                         {}, [], [], [], recorded_p=False, ended_embargo=False)
        staged.stage(tmp_path, public=public)
        path = Path(staged.place(1)[name])
        assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_publishing_drops_a_proposal_and_ends_an_embargo_after_its_date() -> None:
    from tests.troubleshoot.builders import ACTOR, day, embargo, new_case

    proposed, _ = new_case()
    proposed.propose_embargo(day(40), at=day(1), actor=ACTOR)
    proposed.publish_advisory(at=day(5), actor=ACTOR, summary="", formats=["csaf"],
                              digests={})
    assert proposed.em is EM.NONE and CSEvent.P in proposed.pxa
    ended, _ = new_case()
    embargo(ended, end=10)
    done = ended.publish_advisory(at=day(10), actor=ACTOR, summary="", formats=[],
                                  digests={})
    assert not done.early and ended.em is EM.EXITED
    assert any(e.summary().startswith("P (") for e in ended.pending)
    published = [e for e in ended.pending if e.type is EventType.ADVISORY_PUBLISHED]
    assert published[0].summary() == ("advisory version 1 published "
                                      "(Initial public release.)")
