"""``[publish] csaf_version`` (issue 10): the CSAF version of the csaf and csaf-vex
documents, "2.0" unless set; any other value is refused naming the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cvdesk.settings import PublishSettings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.upper().startswith("CVDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_default_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().publish.csaf_version == "2.0"
    config = tmp_path / "cvdesk.toml"
    config.write_text('[publish]\ncsaf_version = "2.1"\n')
    assert load_settings().publish.csaf_version == "2.1"
    monkeypatch.setenv("CVDESK_PUBLISH__CSAF_VERSION", "2.0")
    assert load_settings().publish.csaf_version == "2.0"


@pytest.mark.parametrize(("text", "says"), [
    ('csaf_version = "2.2"', "publish.csaf_version: must be one of 2.0, 2.1, not '2.2'"),
    ('csaf_version = ""', "publish.csaf_version: must be one of 2.0, 2.1, not ''"),
    ("csaf_version = 2.1", "publish.csaf_version: must be text (in quotes), not 2.1"),
])
def test_a_bad_value_names_the_setting(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "cvdesk.toml").write_text(f"[publish]\n{text}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert says in str(caught.value)


def test_the_value_is_checked_however_the_settings_are_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_PUBLISH__CSAF_VERSION", "2.1 ")
    with pytest.raises(SettingsError, match=r"publish\.csaf_version: must be one of"):
        load_settings()
    with pytest.raises(ValueError, match=r"publish\.csaf_version"):
        PublishSettings(csaf_version="3.0")
