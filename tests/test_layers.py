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
    # Publication formats: pure writers of the domain's advisory value (issue 10).
    "publish": {"domain", "publish"},
    # Learning from experience (issue 12): histories, baseline, skill, timing, plots.
    "metrics": {"domain", "metrics"},
    "store": {"domain", "store"},
    "services": {"domain", "store", "intake", "troubleshoot", "channels", "services",
                 "settings", "publish", "metrics"},
    # Seed data (the demo) is written through the services, like a face writes.
    "seed": {"domain", "services", "seed"},
    # The composition root (cvdesk/app.py): builds the database and hands out services.
    # It reaches the database through services/database.py, so no face touches store/
    # even by way of the root (DESIGN: never Cli -> Store).
    "app": {"domain", "services", "settings", "app", "seed"},
    # Faces (issue 9): they call services only, through the desk, and show domain values.
    "cli": {"domain", "services", "settings", "cli", "app"},
    "web": {"domain", "services", "settings", "web", "app"},
}
#: packages allowed to be absent (a face not written yet): the rule is ready for them
NOT_YET: set[str] = set()


def test_faces_do_not_import_each_other() -> None:
    """``cvdesk serve`` starts the web face by its import string (uvicorn), not by import."""
    assert "web" not in ALLOWED["cli"] and "cli" not in ALLOWED["web"]
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


def _modules(package: str) -> list[Path]:
    """The package's files; a single-module layer (cvdesk/app.py) is its one file."""
    if (ROOT / package).is_dir():
        return sorted((ROOT / package).rglob("*.py"))
    if (ROOT / f"{package}.py").is_file():
        return [ROOT / f"{package}.py"]
    if package in NOT_YET:
        return []
    raise AssertionError(f"cvdesk/{package} is in the layer table but does not exist")


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    bad = []
    for path in _modules(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "cvdesk" and len(parts) > 1 and parts[1] not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}: {name}")
            if package in ("domain", "troubleshoot") and parts[0] in FRAMEWORKS:
                bad.append(f"{path.relative_to(ROOT)}: {name} (framework in a pure layer)")
    assert bad == []


def test_every_layer_in_the_table_exists() -> None:
    assert (ROOT / "web").is_dir() and _modules("web")
    assert _modules("app") == [ROOT / "app.py"]
    with pytest.raises(AssertionError, match="does not exist"):
        _modules("no_such_layer")


def test_domain_never_reads_the_clock() -> None:
    for package in ("domain", "troubleshoot"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert ".now(" not in text and "utcnow" not in text and "time.time" not in text, path
