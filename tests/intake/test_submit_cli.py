"""`cvdesk report submit` with careless files, through the CLI entry point, on SQLite and
PostgreSQL: exit 2, the field named in the file's own terms, and nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli

GOOD = ("title: Firmware upload without authentication\ndescription: d\n"
        "reporter: Sam Okafor\ntlp: 'TLP: amber+strict'\n"
        "products:\n  - product: Plug\n    vendor: Contoso\n    versions: [1.0, 1.10]\n")


Submit = Callable[[str, bytes], tuple[int, str, dict[str, int], dict[str, int]]]


@pytest.fixture
def submit(cli: Cli, tmp_path: Path) -> Submit:
    def run(name: str, content: bytes) -> tuple[int, str, dict[str, int], dict[str, int]]:
        path = tmp_path / name
        path.write_bytes(content)
        before = cli.counts()
        code, _, err = cli("report", "submit", str(path))
        return code, err, before, cli.counts()
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
