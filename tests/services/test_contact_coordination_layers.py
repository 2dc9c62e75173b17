"""Issue 9, one persistence pattern: the contact and coordination services keep no SQL of
their own (it is in store/directory.py and store/coordinators.py), and what they hand a
face is a frozen view with one JSON form, never an ORM row."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from cvdesk.domain.model import ContactKind, Report, ReporterInfo, Retrospective, Role
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.coordination import CoordinationService

SERVICES = Path(__file__).resolve().parents[2] / "cvdesk" / "services"


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["contacts.py", "coordination.py"])
def test_the_service_leaves_queries_and_rows_to_the_store(module: str) -> None:
    imported = _imported(SERVICES / module)
    assert not {n for n in imported if n.split(".")[0] == "sqlalchemy"}
    assert "cvdesk.store.tables" not in imported  # ORM rows never reach the service


def _is_view(value: Any, keys: set[str]) -> dict[str, Any]:
    """``value`` is a frozen dataclass whose to_json() has ``keys`` and survives JSON."""
    assert dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen  # type: ignore[attr-defined]
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)
    data = value.to_json()
    assert set(data) == keys and json.loads(json.dumps(data)) == data
    return data


def test_contact_and_coordination_services_return_views(service: CaseService) -> None:
    contacts = ContactService(service.db, service.settings, clock=service.clock)
    contacts.add("Acme", ContactKind.EMAIL, "psirt@acme.example", verified=True)
    [entry] = contacts.directory(" ACME ")
    data = _is_view(entry, {"organization", "kind", "value", "source", "verified_at",
                            "details"})
    assert data == {"organization": "Acme", "kind": "email", "value": "psirt@acme.example",
                    "source": "manual", "verified_at": service.clock().isoformat(),
                    "details": None}
    assert contacts.export_rows() == [{**data, "details": {}}]  # the import format

    coord = CoordinationService(service)
    added = coord.add_coordinator("CERT-EU", "coordinator", country="EU")
    assert _is_view(added, {"name", "kind", "country", "email", "url", "notes"})["name"] \
        == "CERT-EU"
    assert coord.coordinator("cert-eu") == added
    assert added in coord.coordinators()

    cid = service.submit_report(Report("Bug", "d", ReporterInfo("Rita"))).case_id
    service.add_participant(cid, "Acme", [Role.VENDOR])
    service.close(cid, reason="published")
    [todo] = coord.closed_without_retrospective()
    assert _is_view(todo, {"case_id", "title"}) == {"case_id": cid, "title": "Bug"}
    coord.add_retrospective(cid, Retrospective("fast", "slow vendor", "call first"))
    [retro] = coord.retrospectives(query="SLOW")
    assert _is_view(retro, {"case_id", "went_well", "went_wrong", "do_differently", "author",
                            "created_at"})["case_id"] == cid
    assert coord.retrospectives(case_id=cid.lower()) == [retro]


def test_the_cli_prints_the_views_json(cli: Any) -> None:
    cli.ok("contact", "add", "  Acme ", "--kind", "email", "--value", "psirt@acme.example")
    listed = json.loads(cli.ok("contact", "list", "--org", "acme", "--json"))
    assert listed == [{"organization": "Acme", "kind": "email", "value": "psirt@acme.example",
                       "source": "manual", "verified_at": None, "details": None}]
    assert "added CERT-EU (coordinator)" in cli.ok("coordinator", "add", "--name", "CERT-EU")
    coordinators = json.loads(cli.ok("coordinator", "list", "--json"))
    assert {"name": "CERT-EU", "kind": "coordinator", "country": "", "email": "", "url": "",
            "notes": ""} in coordinators
