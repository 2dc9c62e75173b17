"""``--csaf-version`` on ``cvdesk advisory draft`` and ``cvdesk publish`` (issue 10): it
overrides ``[publish] csaf_version``; a version cvdesk does not write exits 2 naming the
CSAF version, and publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

FREE = "CVD-2026-0014"  # a demo case under no embargo


def _csaf(data: dict) -> dict:
    [doc] = [d for d in data["documents"] if d["format"] == "csaf"]
    return json.loads(Path(doc["path"]).read_bytes())


def test_draft_option_and_setting(demo_cli: Cli, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = demo_cli.json("advisory", "draft", FREE, "--format", "csaf", "--csaf-version",
                         "2.1", "--out", str(tmp_path / "a"))
    assert data["refused"] == [], data["refused"]
    assert _csaf(data)["document"]["csaf_version"] == "2.1"
    data = demo_cli.json("advisory", "draft", FREE, "--format", "csaf", "--out",
                         str(tmp_path / "b"))
    assert _csaf(data)["document"]["csaf_version"] == "2.0"
    monkeypatch.setenv("CVDESK_PUBLISH__CSAF_VERSION", "2.1")
    data = demo_cli.json("advisory", "draft", FREE, "--format", "csaf", "--out",
                         str(tmp_path / "c"))
    assert _csaf(data)["document"]["csaf_version"] == "2.1"
    data = demo_cli.json("advisory", "draft", FREE, "--format", "csaf", "--csaf-version",
                         "2.0", "--out", str(tmp_path / "d"))
    assert _csaf(data)["document"]["csaf_version"] == "2.0"


def test_publish_option(demo_cli: Cli, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@example.org")
    before = demo_cli.counts()
    code, _, err = demo_cli("publish", FREE, "--format", "csaf", "--csaf-version", "2.2")
    assert code == 2 and "CSAF version" in err and "'2.2' is not one of 2.0, 2.1" in err
    assert "--csaf-version" not in err
    assert demo_cli.counts() == before
    data = demo_cli.json("publish", FREE, "--format", "csaf", "--format", "csaf-vex",
                         "--csaf-version", "2.1", "--out", str(tmp_path / "out"))
    assert data["version"] == 1
    docs = [d for d in data["documents"] if d["filename"].endswith(".json")]
    assert len(docs) == 2
    for d in docs:
        doc = json.loads(Path(d["path"]).read_bytes())
        assert doc["document"]["csaf_version"] == "2.1"


def test_draft_refuses_an_unknown_version(demo_cli: Cli) -> None:
    code, _, err = demo_cli("advisory", "draft", FREE, "--csaf-version", "1.0")
    assert code == 2 and "CSAF version" in err and "'1.0' is not one of" in err


def test_the_option_is_listed_in_help(demo_cli: Cli) -> None:
    for command in (("advisory", "draft"), ("publish",)):
        code, out, _ = demo_cli(*command, "--help")
        assert code == 0 and "--csaf-version" in out and "2.0|2.1" in out
