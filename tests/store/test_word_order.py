"""Word prefixes ordered by a frozen rarity snapshot (migration 0015, cvdesk.store.word_order):
the duplicate check (guide 6.5; 6.10 row 15) flags exactly the pairs a comparison of every
report with every earlier one flags, before and after refilings, on both backends; the
migration's copy of the rules cuts what the live code cuts."""

from __future__ import annotations

import importlib
import random
from collections import Counter
from itertools import combinations

from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cvdesk.domain.codec import report_from_dict
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, Report, ReporterInfo
from cvdesk.services import CaseService
from cvdesk.store import migrate
from cvdesk.store.tables import (
    CaseRow,
    EventRow,
    ReportFingerprintRow,
    ReportRow,
    ReportWordRarityRow,
    ReportWordRow,
)
from cvdesk.troubleshoot.similarity import (
    Fingerprint,
    fingerprint,
    from_stored,
    match,
    word_id,
    word_prefix,
)
from tests.troubleshoot.test_duplicates_labelled import REPORTS

M0015 = importlib.import_module("cvdesk.store.migrations.versions.0015_report_word_rarity")

# A small vocabulary with a skewed use, so that reports overlap often (many pairs near the
# 0.6 and 0.25 bars) and the snapshot's counts differ from the length order.
VOCABULARY = ["overflow", "heap", "tls", "crash", "router", "firmware", "xss", "token",
              "upload", "parser", "authentication", "rce", "deserialization", "cookie",
              "admin", "panel", "reset", "password", "bypass", "injection", "sql", "ldap"]
PRODUCTS = [("Contoso", "SmartPlug P100"), ("Oscorp", "Telemetry SDK"), ("Acme", "Router"),
            ("Initech", "TPS"), ("Umbrella", "Hive Console")]


def _corpus(seed: int, n: int) -> list[Report]:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(VOCABULARY))]
    out: list[Report] = []
    for i in range(n):
        if out and rng.random() < 0.3:  # a near copy of an earlier report
            old = rng.choice(out)
            words = (old.title + " " + old.description).split()
            words = [w for w in words if rng.random() > 0.25] + rng.choices(VOCABULARY, k=2)
        else:
            words = rng.choices(VOCABULARY, weights, k=rng.randrange(3, 14))
        vendor, product = rng.choice(PRODUCTS)
        out.append(Report(title=" ".join(words[:3]) or "x", description=" ".join(words[3:]) or "y",
                          reporter=ReporterInfo(name=f"r{i}"),
                          products=(AffectedProduct(product=product, vendor=vendor),)))
    return out


def _flagged(service: CaseService) -> set[frozenset[str]]:
    with service.db.sessions() as s:
        rows = s.execute(select(CaseRow.case_id, EventRow.data)
                         .join(EventRow, EventRow.case_pk == CaseRow.id)
                         .where(EventRow.type == EventType.OBSERVATION.value)).all()
    return {frozenset({cid, data["case_id"]}) for cid, data in rows}


def _brute_force(service: CaseService, case_ids: list[str]) -> set[frozenset[str]]:
    """Every pair whose stored forms match (all cases stay open)."""
    with service.db.sessions() as s:
        forms = dict(s.execute(select(CaseRow.case_id, ReportRow.form)
                               .join(ReportRow, ReportRow.case_pk == CaseRow.id)).all())
    prints = {c: fingerprint(report_from_dict(forms[c])) for c in case_ids}
    return {frozenset({a, b}) for a, b in combinations(case_ids, 2)
            if match(prints[b], prints[a]) is not None}


def _words(service: CaseService) -> tuple[dict[int, int], dict[tuple[int, int], tuple]]:
    with service.db.sessions() as s:
        rarity = dict(s.execute(select(ReportWordRarityRow.word_id,
                                       ReportWordRarityRow.reports)).all())
        words = {(r.report_pk, r.word_id): (r.weight, r.tail)
                 for r in s.scalars(select(ReportWordRow))}
    return rarity, words


def _expected_words(service: CaseService, rarity: dict[int, int],
                    ) -> dict[tuple[int, int], tuple]:
    """What the live rules file under ``rarity`` for every stored fingerprint."""
    with service.db.sessions() as s:
        prints = s.execute(select(ReportFingerprintRow.report_pk,
                                  ReportFingerprintRow.data)).all()
    return {(pk, w): x for pk, data in prints
            for w, x in word_prefix(from_stored(data), rarity).items()}


def test_duplicates_equal_brute_force_across_refilings(service: CaseService) -> None:
    """Submits before any snapshot (the length order), after a refiling, and after the
    store has grown past its snapshot (stale counts) all flag the brute-force pairs."""
    case_ids: list[str] = []
    for seed, (first, second) in enumerate([(25, 20), (15, 30)]):
        reports = _corpus(seed, first + second)
        for report in reports[:first]:
            case_ids.append(service.submit_report(report).case_id)
        assert _flagged(service) == _brute_force(service, case_ids)
        service.refile_word_order()
        rarity, words = _words(service)
        assert rarity and all(n > 1 for n in rarity.values())
        assert words == _expected_words(service, rarity)
        for report in reports[first:]:
            case_ids.append(service.submit_report(report).case_id)
        assert _flagged(service) == _brute_force(service, case_ids)
        # what a submit filed is cut under the snapshot it read
        assert _words(service) == (rarity, _expected_words(service, rarity))
    assert len(_flagged(service)) > 20


def test_the_migration_takes_a_snapshot_and_downgrades_to_the_length_order(
        service: CaseService) -> None:
    for report in REPORTS.values():
        service.submit_report(report)
    assert _words(service) == ({}, _expected_words(service, {}))  # a new desk: no snapshot
    cfg = migrate.alembic_config(service.db)
    with service.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
    with service.db.sessions() as s:  # 0009's order: the length order
        words = {(r.report_pk, r.word_id): (r.weight, r.tail)
                 for r in s.scalars(select(ReportWordRow))}
    assert words == _expected_words(service, {})
    assert migrate.upgrade(service.db) == ("0014", migrate.HEAD)
    migrated = _words(service)
    assert migrated[0] and migrated[1] == _expected_words(service, migrated[0])
    assert migrated[1] != words  # the rare words moved first
    service.refile_word_order()  # the live refiling agrees with the migration's copy
    assert _words(service) == migrated


@settings(max_examples=200, deadline=None)
@given(counts=st.dictionaries(st.sampled_from([*VOCABULARY, "a", "zz", "longerword"]),
                              st.integers(1, 5), max_size=15),
       ranks=st.dictionaries(st.sampled_from(VOCABULARY), st.integers(0, 9)))
def test_the_migration_cuts_what_the_live_code_cuts(counts: dict[str, int],
                                                    ranks: dict[str, int]) -> None:
    rarity = {word_id(w): n for w, n in ranks.items()}
    assert M0015.prefix_of(counts, rarity) == \
        word_prefix(Fingerprint(frozenset(), Counter(counts)), rarity)


def test_rare_words_come_first() -> None:
    """The snapshot, not the length, decides: a long word every report uses falls out of
    the prefix (the regression: 0009 filed it first)."""
    words = Counter({"deserialization": 1, "heap": 1, "xss": 1, "tls": 1, "rce": 1})
    fp = Fingerprint(frozenset(), words)
    assert word_id("deserialization") in word_prefix(fp)
    common = {word_id("deserialization"): 1000, word_id("heap"): 3}
    # unknown words (count 0) first, then heap; 1 of 5 is left at deserialization: stop
    assert set(word_prefix(fp, common)) == {word_id(w) for w in ["xss", "tls", "rce", "heap"]}

def test_a_report_of_many_words_is_looked_up_in_parts(service: CaseService) -> None:
    """More than 300 prefix words: the look-up runs in several statements and adds up
    across them (the 0.6 bar, different products)."""
    words = [f"w{i:04d}x" for i in range(700)]
    first = Report(title="long", description=" ".join(words), reporter=ReporterInfo(name="a"),
                   products=(AffectedProduct(product="One", vendor="Alpha"),))
    again = Report(title="long", description=" ".join(words[:600]),
                   reporter=ReporterInfo(name="b"),
                   products=(AffectedProduct(product="Two", vendor="Beta"),))
    a = service.submit_report(first).case_id
    service.refile_word_order()
    b = service.submit_report(again).case_id
    assert _flagged(service) == {frozenset({a, b})}


def test_a_refiling_waits_for_submits_that_read_the_old_snapshot(
        service: CaseService) -> None:
    """A submit that read the snapshot files its prefix under it; a refiling meanwhile
    must wait for it to commit (then recuts it too), or the two orders would mix."""
    import threading

    from cvdesk.store.cases import CaseRepository

    if service.db.backend == "sqlite":  # one writer at a time: nothing to interleave
        return
    for report in REPORTS.values():
        service.submit_report(report)
    with service.db.transaction() as session:
        CaseRepository(session).word_rarity({word_id("firmware")})
        refiling = threading.Thread(target=service.refile_word_order)
        refiling.start()
        refiling.join(timeout=1.0)
        assert refiling.is_alive()  # blocked by this transaction's read
    refiling.join(timeout=30)
    assert not refiling.is_alive()
    rarity, words = _words(service)
    assert rarity and words == _expected_words(service, rarity)
