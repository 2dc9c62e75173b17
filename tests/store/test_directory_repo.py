"""The one organization upsert (cvdesk/store/directory.py) on both backends: every path
that names an organization (case participants, contact add, discovery, import) reaches
it, so "  ACME " and "acme" are one organization with each contact once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource, Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.store.db import Database
from cvdesk.store.directory import DirectoryRepository, OrganizationFacts
from cvdesk.store.tables import ContactRow, OrganizationRow, ParticipantRow
from tests.conftest import TEST_NOW, held_race


def _organizations(db: Database) -> list[tuple[str, str, str]]:
    with db.sessions() as s:
        return [(o.name, o.name_key, o.website) for o in
                s.scalars(select(OrganizationRow).order_by(OrganizationRow.id))]


def _contacts(db: Database) -> list[tuple[int, str, str, str]]:
    with db.sessions() as s:
        return [(c.organization_id, c.kind, c.value, c.source) for c in
                s.scalars(select(ContactRow).order_by(ContactRow.kind, ContactRow.value))]


def test_one_organization_per_trimmed_lowercased_name(db: Database) -> None:
    with db.transaction() as s:
        repo = DirectoryRepository(s)
        first = repo.upsert_organization("  ACME ", emails=["psirt@acme.example"],
                                         phones=["+1 555 0100"], now=TEST_NOW)
        again = repo.upsert_organization("acme", website="https://acme.example",
                                         emails=["psirt@acme.example", "psirt@acme.example",
                                                 ""],
                                         phones=["+1 555 0100"], now=TEST_NOW)
        assert again == first
    with db.transaction() as s:  # a later transaction finds the stored row
        assert DirectoryRepository(s).upsert_organization(
            "Acme", emails=["psirt@acme.example"], now=TEST_NOW) == first
    # The first spelling names it (trimmed); a website fills the empty one.
    assert _organizations(db) == [("ACME", "acme", "https://acme.example")]
    assert _contacts(db) == [(first, "email", "psirt@acme.example", "manual"),
                             (first, "phone", "+1 555 0100", "manual")]


def test_a_known_contact_keeps_its_source_and_a_known_website_stays(db: Database) -> None:
    with db.transaction() as s:
        repo = DirectoryRepository(s)
        org = repo.upsert_organization("Globex", website="https://globex.example",
                                       now=TEST_NOW)
        assert repo.add_contact(org, ContactKind.EMAIL, "sec@globex.example",
                                ContactSource.SECURITY_TXT, verified_at=TEST_NOW, now=TEST_NOW)
        repo.upsert_organization(" globex", website="https://elsewhere.example",
                                 emails=["sec@globex.example"], now=TEST_NOW)
    assert _organizations(db) == [("Globex", "globex", "https://globex.example")]
    assert [c[1:] for c in _contacts(db)] == [("email", "sec@globex.example", "security.txt")]


@pytest.mark.parametrize("name", ["", "   "])
def test_an_organization_needs_a_name(db: Database, name: str) -> None:
    with pytest.raises(InvalidInput, match=r"^organization: must not be empty"), \
            db.transaction() as s:
        DirectoryRepository(s).upsert_organization(name, now=TEST_NOW)
    assert _organizations(db) == []


def test_cases_and_the_contact_directory_share_the_upsert(
        service: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    db = service.db
    calls: list[str] = []
    real = DirectoryRepository.upsert_organizations  # upsert_organization's code too

    def spy(self: DirectoryRepository, facts: list[OrganizationFacts], **kwargs: Any,
            ) -> list[int]:
        calls.extend(f.name for f in facts)
        return real(self, facts, **kwargs)

    monkeypatch.setattr(DirectoryRepository, "upsert_organizations", spy)
    contacts = ContactService(db, service.settings, clock=service.clock)
    assert contacts.add("  ACME ", ContactKind.EMAIL, "psirt@acme.example")
    cid = service.submit_report(Report("Bug", "d", ReporterInfo("Rita"))).case_id
    pid = service.add_participant(cid, "acme", [Role.VENDOR], email="psirt@acme.example",
                                  phone="+1 555 0100")
    service.add_participant(cid, "Wile E.", [Role.OTHER], organization="ACME  ",
                            email="wile@acme.example")
    assert contacts.import_rows([{"organization": "Acme", "kind": "email",
                                  "value": "psirt@acme.example"}], "rows.json") == 0
    assert calls == ["  ACME ", "acme", "ACME  ", "Acme"]

    assert _organizations(db) == [("ACME", "acme", "")]
    with db.sessions() as s:
        org_id = s.scalar(select(OrganizationRow.id))
    assert _contacts(db) == [(org_id, "email", "psirt@acme.example", "import"),
                             (org_id, "email", "wile@acme.example", "manual"),
                             (org_id, "phone", "+1 555 0100", "manual")]
    with db.sessions() as s:
        linked = s.scalars(select(ParticipantRow.organization_id).where(
            ParticipantRow.organization_id.is_not(None)))
        assert set(linked) == {org_id}
        assert s.scalar(select(func.count()).select_from(ParticipantRow).where(
            ParticipantRow.pid == pid, ParticipantRow.organization_id == org_id)) == 1
    assert [(e.organization, e.kind, e.value) for e in contacts.directory("  acme")] == [
        ("ACME", "email", "psirt@acme.example"), ("ACME", "email", "wile@acme.example"),
        ("ACME", "phone", "+1 555 0100")]


def test_two_transactions_adding_one_new_organization_share_it(db: Database) -> None:
    """Two reports naming the same new vendor at the same moment: the first transaction
    adds the organization and its contact and holds them; the second waits (on its key
    on PostgreSQL, the write lock on SQLite) and then takes the same organization, its
    own new contact added, instead of failing on the key."""
    first, second = held_race(
        db, lambda s: DirectoryRepository(s).upsert_organization(
            "NewCo", emails=["psirt@newco.example"], now=TEST_NOW),
        lambda s: DirectoryRepository(s).upsert_organization(
            " newco ", emails=["psirt@newco.example", "sec@newco.example"], now=TEST_NOW))
    assert isinstance(first, int) and second == first
    assert _organizations(db) == [("NewCo", "newco", "")]
    assert [c[2] for c in _contacts(db)] == ["psirt@newco.example", "sec@newco.example"]


def test_two_transactions_adding_one_contact_keep_it_once(db: Database) -> None:
    """Discovery and an import finding the same address at once: the first transaction
    adds the contact and holds it; the second waits, finds it known (False) and gives
    it its source and check time instead of failing on the key."""
    with db.transaction() as s:
        org = DirectoryRepository(s).upsert_organization("Acme", now=TEST_NOW)
    outcome = held_race(
        db, lambda s: DirectoryRepository(s).add_contact(
            org, ContactKind.EMAIL, "psirt@acme.example", ContactSource.MANUAL, now=TEST_NOW),
        lambda s: DirectoryRepository(s).add_contact(
            org, ContactKind.EMAIL, "psirt@acme.example", ContactSource.SECURITY_TXT,
            verified_at=TEST_NOW, now=TEST_NOW))
    assert outcome == (True, False)
    assert _contacts(db) == [(org, "email", "psirt@acme.example", "security.txt")]
