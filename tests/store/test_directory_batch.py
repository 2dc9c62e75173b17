"""Issue 9 (intake speed): ``upsert_organizations`` is ``upsert_organization`` for many at
once.  It must leave the directory exactly as calling the single upsert once per
organization, in order, would, on both backends; and saving a case that names many new
vendors must cost a few statements on the directory, not one round trip per vendor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactSource, Report, ReporterInfo
from cvdesk.services import CaseService
from cvdesk.store.db import Database
from cvdesk.store.directory import DirectoryRepository, OrganizationFacts
from cvdesk.store.tables import ContactRow, OrganizationRow
from tests.conftest import TEST_NOW

BATCH = [
    OrganizationFacts("  Acme ", emails=("psirt@acme.example", "psirt@acme.example")),
    OrganizationFacts("Globex", website="https://globex.example", phones=("+1 555 0100",)),
    OrganizationFacts("ACME", website="https://acme.example", emails=("sec@acme.example",)),
    OrganizationFacts("acme", website="https://elsewhere.example",
                      emails=("", "psirt@acme.example")),
    OrganizationFacts("Initech", emails=("a@initech.example",), phones=("",)),
    OrganizationFacts("globex ", phones=("+1 555 0100", "+1 555 0101")),
]


def _state(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with db.sessions() as s:
        orgs = [tuple(r) for r in s.execute(select(
            OrganizationRow.id, OrganizationRow.name, OrganizationRow.name_key,
            OrganizationRow.website).order_by(OrganizationRow.id))]
        contacts = [tuple(r) for r in s.execute(select(
            ContactRow.id, ContactRow.organization_id, ContactRow.kind, ContactRow.value,
            ContactRow.source).order_by(ContactRow.id))]
    return orgs, contacts


def _seed(db: Database) -> None:
    """Organizations that exist before the batch: one with a contact the batch repeats."""
    with db.transaction() as s:
        repo = DirectoryRepository(s)
        repo.upsert_organization("Initech", emails=["a@initech.example"],
                                 source=ContactSource.SECURITY_TXT, now=TEST_NOW)
        repo.upsert_organization("Globex", now=TEST_NOW)


def test_a_batch_leaves_what_single_upserts_in_turn_leave(db: Database) -> None:
    _seed(db)
    with db.transaction() as s:
        ids = DirectoryRepository(s).upsert_organizations(BATCH, now=TEST_NOW)
    batched = _state(db)
    with db.transaction() as s:  # the same again, one by one: changes nothing
        repo = DirectoryRepository(s)
        again = [repo.upsert_organization(f.name, website=f.website, emails=f.emails,
                                          phones=f.phones, now=TEST_NOW) for f in BATCH]
    assert again == ids and _state(db) == batched

    orgs, contacts = batched
    by_id = {oid: (name, website) for oid, name, _, website in orgs}
    assert [by_id[i] for i in ids] == [
        ("Acme", "https://acme.example"), ("Globex", "https://globex.example"),
        ("Acme", "https://acme.example"), ("Acme", "https://acme.example"),
        ("Initech", ""), ("Globex", "https://globex.example")]
    assert [(by_id[o][0], kind, value, source) for _, o, kind, value, source in contacts] == [
        ("Initech", "email", "a@initech.example", "security.txt"),
        ("Acme", "email", "psirt@acme.example", "manual"),
        ("Globex", "phone", "+1 555 0100", "manual"),
        ("Acme", "email", "sec@acme.example", "manual"),
        ("Globex", "phone", "+1 555 0101", "manual")]


def test_the_batch_refuses_a_nameless_organization_and_writes_nothing(db: Database) -> None:
    with pytest.raises(InvalidInput, match=r"^organization: must not be empty"), \
            db.transaction() as s:
        DirectoryRepository(s).upsert_organizations(
            [OrganizationFacts("Acme"), OrganizationFacts("  ")], now=TEST_NOW)
    assert _state(db) == ([], [])


def test_naming_many_vendors_costs_a_few_directory_statements(service: CaseService) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "organizations" in statement or "contacts" in statement:
            statements.append(statement)

    vendors = tuple(f"Vendor {i}" for i in range(600))
    event.listen(service.db.engine, "before_cursor_execute", seen)
    try:
        cid = service.submit_report(Report("Library flaw", "shared component",
                                           ReporterInfo("Finder"), vendors=vendors)).case_id
    finally:
        event.remove(service.db.engine, "before_cursor_execute", seen)
    assert len(statements) <= 8  # a select and an insert per 500 (was: two per vendor)
    linked = {p.name: p for p in service.show(cid).participants}
    assert len(linked) == 602
    with service.db.sessions() as s:
        names = set(s.scalars(select(OrganizationRow.name)))
    assert names == set(vendors)


def test_names_and_contacts_with_nul_are_found_again(db: Database) -> None:
    """The store keeps a NUL as U+FFFD: the batch must match what it reads back."""
    facts = [OrganizationFacts("Ev\x00il", emails=("a\x00@evil.example",)),
             OrganizationFacts("ev\x00il ", emails=("a\x00@evil.example",))]
    for _ in range(2):
        with db.transaction() as s:
            ids = DirectoryRepository(s).upsert_organizations(facts, now=TEST_NOW)
        assert ids[0] == ids[1]
    orgs, contacts = _state(db)
    assert [o[1:] for o in orgs] == [("Ev\ufffdil", "ev\ufffdil", "")]
    assert [c[2:] for c in contacts] == [("email", "a\ufffd@evil.example", "manual")]


def test_an_upsert_reads_only_the_contacts_it_was_given(db: Database) -> None:
    """An import upserts the organization of every row: with no contacts to add, the
    organization's existing contacts (there may be thousands) are not read at all."""
    with db.transaction() as s:
        repo = DirectoryRepository(s)
        repo.upsert_organizations([OrganizationFacts(
            "Acme", emails=tuple(f"p{i}@acme.example" for i in range(50)))], now=TEST_NOW)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.transaction() as s:
            repo = DirectoryRepository(s)
            first = repo.upsert_organization("ACME", now=TEST_NOW)
            assert not [x for x in statements if "contacts" in x]
            assert repo.upsert_organization("acme", emails=["p7@acme.example", "new@acme.example"],
                                            now=TEST_NOW) == first
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [c[3] for c in _state(db)[1]][-2:] == ["p49@acme.example", "new@acme.example"]
