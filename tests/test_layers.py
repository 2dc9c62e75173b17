"""The layers of DESIGN.md, enforced: each package imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "cvdesk"

#: package -> cvdesk packages it may import
ALLOWED = {
    "domain": {"domain"},
    "troubleshoot": {"domain", "troubleshoot"},
    "intake": {"domain", "intake"},
    "channels": {"domain", "channels"},
    "store": {"domain", "store"},
    "services": {"domain", "store", "intake", "troubleshoot", "channels", "services",
                 "settings"},
    "cli": {"domain", "store", "intake", "troubleshoot", "services", "settings", "cli",
            "channels"},
}
#: third-party packages the pure layers must not touch
FRAMEWORKS = {"sqlalchemy", "alembic", "typer", "rich", "pydantic", "pydantic_settings",
              "psycopg", "yaml", "httpx", "fastapi"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "cvdesk" and len(parts) > 1 and parts[1] not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}: {name}")
            if package in ("domain", "troubleshoot") and parts[0] in FRAMEWORKS:
                bad.append(f"{path.relative_to(ROOT)}: {name} (framework in a pure layer)")
    assert bad == []


def test_domain_never_reads_the_clock() -> None:
    for package in ("domain", "troubleshoot"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert ".now(" not in text and "utcnow" not in text and "time.time" not in text, path
