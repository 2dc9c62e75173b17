"""Start-up cost (issue 9): ``cvdesk --help`` loads no sub-command module, ``case list``
loads neither Alembic nor the other commands, and the static tables that make this
possible (the commands' short help, the schema head) equal what they stand for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from cvdesk.cli.commands import SHORT_HELP
from cvdesk.cli.main import full_app, main
from cvdesk.services.database import DatabaseNotReady, require_ready
from cvdesk.store import migrate
from cvdesk.store.db import Database

#: Modules a start-up path must not load: libraries only some commands need, and the
#: command modules themselves.
HEAVY = ("alembic", "yaml", "httpx", "aiosmtpd", "pgpy", "cvdesk.cli.mail",
         "cvdesk.cli.doctor", "cvdesk.cli.coordination", "cvdesk.cli.transitions",
         "cvdesk.cli.contacts", "cvdesk.cli.messages", "cvdesk.services.mail",
         "cvdesk.services.doctor")


def _first_paragraph(help_text: str | None) -> str:
    return (help_text or "").split("\n\n")[0]


def test_static_short_help_equals_what_the_modules_declare() -> None:
    tree = typer.main.get_command(full_app())
    assert list(tree.commands) == list(SHORT_HELP)  # same commands, same order
    declared = {name: _first_paragraph(cmd.help) for name, cmd in tree.commands.items()}
    assert declared == SHORT_HELP


def test_head_constant_equals_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == migrate.HEAD


def test_help_lists_every_command_without_loading_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out.split("Commands:\n")[1]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")
             and not line.startswith("   ")]
    assert names == list(SHORT_HELP)


def _loaded_after(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``cvdesk ARGS``."""
    script = ("import json, sys\nfrom cvdesk.cli.main import main\n"
              f"code = main({args!r})\n"
              "print(json.dumps([code, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stderr
    return set(modules)


def test_help_loads_no_command_module_nor_database_library(tmp_path: Path) -> None:
    loaded = _loaded_after(["--help"], tmp_path)
    light = [m for m in loaded if m.split(".")[0] in ("sqlalchemy", "pydantic", "rich")
             or m.startswith(HEAVY) or m in ("cvdesk.cli.cases", "cvdesk.services",
                                             "cvdesk.settings")]
    assert light == []


def test_case_list_loads_only_what_it_needs(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("CVDESK_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    import os

    loaded = _loaded_after(["case", "list"], tmp_path, env=dict(os.environ))
    assert "cvdesk.cli.cases" in loaded and "sqlalchemy" in loaded
    assert sorted(m for m in loaded if m.startswith(HEAVY)) == []
    # Typer reads option values through pydantic; plain values are read without it
    # (cvdesk.cli.params), and the settings are dataclasses (cvdesk.settings).
    assert sorted(m for m in loaded if m.startswith(("pydantic", "pydantic_settings"))) == []


def test_case_list_loads_neither_the_orm_nor_the_troubleshooting_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("CVDESK_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    import os

    loaded = _loaded_after(["case", "list"], tmp_path, env=dict(os.environ))
    # The ORM and the mapped tables cost as much again as SQLAlchemy's core (issue 9); the
    # PostgreSQL dialect is for PostgreSQL databases.
    assert sorted(m for m in loaded if m.startswith((
        "sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "cvdesk.store.tables",
        "cvdesk.troubleshoot"))) == []


def test_stored_revision_is_what_alembic_reads(db: Database) -> None:
    assert migrate.stored_revision(db) == migrate.current_revision(db) == migrate.HEAD
    require_ready(db)  # at the head: no complaint


def test_an_older_schema_is_refused_with_both_revisions(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    assert migrate.stored_revision(db) == migrate.current_revision(db) == "0007"
    with pytest.raises(DatabaseNotReady, match=f"is at schema 0007, this cvdesk needs "
                                               f"{migrate.HEAD}; run 'cvdesk init'"):
        require_ready(db)


@pytest.mark.parametrize("how", ["DELETE FROM alembic_version", "DROP TABLE alembic_version"])
def test_a_database_without_a_revision_is_not_initialised(db: Database, how: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(how))
    assert migrate.stored_revision(db) is None and migrate.current_revision(db) is None
    with pytest.raises(DatabaseNotReady, match="is not initialised; run 'cvdesk init'"):
        require_ready(db)


def test_a_missing_sqlite_file_is_named(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(DatabaseNotReady, match="there is no database file"):
        require_ready(db)
    assert not (tmp_path / "none.db").exists()


def test_exit_codes_through_the_lazy_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CVDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.db'}")
    assert main(["case", "list"]) == 1  # no database yet
    assert "run 'cvdesk init'" in capsys.readouterr().err
    assert main(["case", "list", "--status", "maybe"]) == 2
    assert "--status" in capsys.readouterr().err
    assert main(["init"]) == 0
    assert main(["case", "show", "CVD-2026-9999"]) == 4
    assert main(["cas"]) == 2
    assert "Did you mean 'case'?" in capsys.readouterr().err
    assert main(["--version"]) == 0
