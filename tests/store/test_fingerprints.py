"""Stored report fingerprints (migration 0008): filled for reports stored before it, and
computed by the migration's frozen copy of the rules exactly as the live code does."""

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
from cvdesk.store.tables import ReportFingerprintRow, ReportKeyRow
from cvdesk.troubleshoot.similarity import fingerprint, stored_keys, to_stored
from tests.troubleshoot.test_duplicates_labelled import REPORTS

M0008 = importlib.import_module("cvdesk.store.migrations.versions.0008_report_fingerprints")


def _stored(service: CaseService) -> tuple[dict[int, object], Counter[tuple[int, str]]]:
    with service.db.sessions() as s:
        prints = {r.report_pk: r.data for r in s.scalars(select(ReportFingerprintRow))}
        keys = Counter((r.report_pk, r.key) for r in s.scalars(select(ReportKeyRow)))
    return prints, keys


def test_the_migration_files_reports_stored_before_it(service: CaseService) -> None:
    for report in REPORTS.values():
        service.submit_report(report)
    written = _stored(service)
    assert written[0] and written[1]
    db = service.db
    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:  # back to 0007, with the reports kept
        conn.execute(delete(ReportKeyRow))
        conn.execute(delete(ReportFingerprintRow))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert migrate.current_revision(db) == "0007"
    assert migrate.upgrade(db) == ("0007", "0008")
    assert _stored(service) == written


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
    assert M0008.keys_of(products, counts) == stored_keys(fp)
