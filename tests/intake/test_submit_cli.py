"""`cvdesk report submit` with careless files, through the CLI entry point, on SQLite and
PostgreSQL: exit 2, the field named in the file's own terms, and nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from cvdesk.cli.main import main
from cvdesk.store.db import normalize_url
from cvdesk.store.tables import Base

GOOD = ("title: Firmware upload without authentication\ndescription: d\n"
        "reporter: Sam Okafor\ntlp: 'TLP: amber+strict'\n"
        "products:\n  - product: Plug\n    vendor: Contoso\n    versions: [1.0, 1.10]\n")


Submit = Callable[[str, bytes], tuple[int, str, dict[str, int], dict[str, int]]]


def counts(url: str) -> dict[str, int]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


@pytest.fixture
def submit(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
           capsys: pytest.CaptureFixture[str]) -> Submit:
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("CVDESK_ACTOR", "tester")
    monkeypatch.chdir(tmp_path)

    def run(name: str, content: bytes) -> tuple[int, str, dict[str, int], dict[str, int]]:
        path = tmp_path / name
        path.write_bytes(content)
        before = counts(db_url)
        capsys.readouterr()
        code = main(["report", "submit", str(path)])
        return code, capsys.readouterr().err, before, counts(db_url)
    return run


@pytest.mark.parametrize(("name", "content", "says"), [
    ("form.yaml", GOOD.encode() + b"public: no\n", "public: write true or false"),
    ("form.json", b'{"title": "t", "description": "d", "reporter": "n", "public": "false"}',
     "public: write true or false without quotes"),
    ("form.yaml", GOOD.encode() + b"title: again\n", "title: given more than once"),
    ("form.yaml", GOOD.replace("[1.0, 1.10]", "['>= 1.0']").encode(),
     "products[0].versions[0]: '>= 1.0' is a range"),
    ("form.json", b"[" * 10_000 + b"]" * 10_000, "(file): nested more than 20 levels deep"),
    ("form.json", b'{"title": 1' + b"0" * 100_000 + b"}", "title: too long"),
    ("form.yaml", bytes(range(256)) * 8, "(file): a binary file"),
])
def test_a_careless_file_exits_2_and_stores_nothing(submit: Submit, name: str, content: bytes,
                                                    says: str) -> None:
    code, err, before, after = submit(name, content)
    assert code == 2, err
    assert says in err
    assert "Traceback" not in err and "_Product" not in err
    assert after == before


def test_a_careful_file_is_stored(submit: Submit) -> None:
    code, err, before, after = submit("form.yaml", GOOD.encode())
    assert code == 0, err
    assert after["reports"] == before["reports"] + 1
