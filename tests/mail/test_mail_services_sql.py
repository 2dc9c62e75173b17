"""Issue 9: all SQL lives in store/.  The mail services (queue, worker, inbound) call the
outbox, inbound and directory repositories and never build a query themselves, and what
they hand out are frozen views, not rows."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService, QuarantinedMail
from tests.conftest import Clock
from tests.mail.test_inbound import desk, open_case, reply

SERVICES = Path(__file__).resolve().parents[2] / "cvdesk" / "services"


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["mail.py", "worker.py", "inbound.py"])
def test_mail_services_import_no_sqlalchemy(module: str) -> None:
    found = {n for n in _imports(SERVICES / module) if n.split(".")[0] == "sqlalchemy"}
    assert found == set()
    assert "cvdesk.store.tables" not in _imports(SERVICES / module)


def test_the_quarantine_is_handed_out_as_frozen_views(service: CaseService,
                                                       clock: Clock) -> None:
    svc = desk(service)
    open_case(svc)
    inbound = InboundService(svc)
    raw = reply(clock, subject="no case here", msgid="<q@x.example>").as_bytes()
    assert not inbound.receive(raw, "smtp").filed
    [kept] = inbound.quarantined()
    assert isinstance(kept, QuarantinedMail) and kept.raw == raw
    [listed] = inbound.quarantine()
    assert (listed.id, listed.size, listed.subject) == (kept.id, len(raw), "no case here")
    assert not hasattr(listed, "raw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.reason = "changed"  # type: ignore[misc]
