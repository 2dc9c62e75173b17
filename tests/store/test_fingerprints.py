"""Stored report fingerprints (migration 0008) and word prefixes (0009): filled for reports
stored before them, and computed by the migrations' frozen copies of the rules exactly as
the live code does."""

from __future__ import annotations

import importlib
from collections import Counter

from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from cvdesk.domain.codec import report_from_dict, to_jsonable
from cvdesk.domain.model import AffectedProduct, Report, ReporterInfo, Vulnerability
from cvdesk.services import CaseService
from cvdesk.store import migrate
from cvdesk.store.tables import ReportFingerprintRow, ReportKeyRow, ReportWordRow
from cvdesk.troubleshoot.similarity import fingerprint, stored_keys, to_stored, word_prefix
from tests.store.test_word_order import _expected_words, _words
from tests.troubleshoot.test_duplicates_labelled import REPORTS

M0008 = importlib.import_module("cvdesk.store.migrations.versions.0008_report_fingerprints")
M0009 = importlib.import_module("cvdesk.store.migrations.versions.0009_report_word_prefixes")


def _stored(service: CaseService) -> tuple[dict[int, object], Counter[tuple[int, str]],
                                           dict[tuple[int, int], float]]:
    with service.db.sessions() as s:
        prints = {r.report_pk: r.data for r in s.scalars(select(ReportFingerprintRow))}
        keys = Counter((r.report_pk, r.key) for r in s.scalars(select(ReportKeyRow)))
        words = {(r.report_pk, r.word_id): r.weight for r in s.scalars(select(ReportWordRow))}
    return prints, keys, words


def test_the_migration_files_reports_stored_before_it(service: CaseService) -> None:
    for report in REPORTS.values():
        service.submit_report(report)
    written = _stored(service)
    assert all(written)
    db = service.db
    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:  # back to 0007, with the reports kept
        conn.execute(delete(ReportKeyRow))
        conn.execute(delete(ReportFingerprintRow))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert migrate.current_revision(db) == "0007"
    assert migrate.upgrade(db) == ("0007", migrate.HEAD)
    _refiled_as_before(service, written)


def _refiled_as_before(service: CaseService, written: tuple) -> None:
    """The same fingerprints and keys; the word prefixes recut by 0015 under the snapshot
    it took of these reports (a new desk's submits had cut them under an empty one)."""
    assert _stored(service)[:2] == written[:2]
    rarity, words = _words(service)
    assert rarity and words == _expected_words(service, rarity)


def test_0009_downgrades_to_word_keys_and_back(service: CaseService) -> None:
    for report in REPORTS.values():
        service.submit_report(report)
    written = _stored(service)
    cfg = migrate.alembic_config(service.db)
    with service.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with service.db.sessions() as s:  # 0008 filed every word as a "w:" key
        keys = Counter((r.report_pk, r.key) for r in s.scalars(select(ReportKeyRow)))
    assert any(k.startswith("w:") for _, k in keys)
    assert migrate.upgrade(service.db) == ("0008", migrate.HEAD)
    _refiled_as_before(service, written)


words = st.text(alphabet="abcXYZ019 .-_/:@\u00e9", max_size=30)
products = st.builds(AffectedProduct, product=words.filter(str.strip), vendor=words,
                     purl=st.sampled_from(["", "pkg:npm/Left-Pad@1.0", "pkg:maven/a/b"]),
                     cpe=st.sampled_from(["", "cpe:2.3:a:Acme:Router_OS:1.0:*:*:*:*:*:*:*"]))
reports = st.builds(
    Report, title=words.filter(str.strip), description=words.filter(str.strip),
    reporter=st.just(ReporterInfo(name="r")), products=st.lists(products, max_size=3).map(tuple),
    vulnerabilities=st.lists(st.builds(Vulnerability, title=words.filter(str.strip),
                                       affected=st.lists(products, max_size=2).map(tuple)),
                             max_size=2).map(tuple))


@settings(max_examples=200, deadline=None)
@given(report=reports)
def test_the_migration_computes_what_the_live_code_stores(report: Report) -> None:
    form = to_jsonable(report)
    fp = fingerprint(report_from_dict(form))
    products, counts = M0008.fingerprint_of_form(form)
    assert {"products": products, "words": counts} == to_stored(fp)
    # 0009 dropped the "w:" keys (the words are filed by their prefix instead)
    assert {k for k in M0008.keys_of(products, counts) if not k.startswith("w:")} == \
        stored_keys(fp)
    assert M0009.prefix_of(counts) == word_prefix(fp)
