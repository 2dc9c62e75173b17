"""The CSAF provider directory (issue 10; CSAF 2.0 7.1): laid out after a publication
or rebuilt from the stored documents, one folder per TLP, each document signed with the
desk's OpenPGP key, and refused (nothing published, nothing written) without the public
URL it is served from."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import TLP
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from tests.conftest import Cli, table_counts
from tests.publish.samples import SAMPLE, at

BASE = "https://csirt.example/.well-known/csaf"
FREE = "CVD-2026-0014"  # a demo case without embargo: publishable now
PASSPHRASE = "correct horse"


@pytest.fixture(scope="module")
def desk_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """(private key file, public key): a throw-away signing key made with PGPy."""
    from pgpy_dtc import PGPUID, PGPKey
    from pgpy_dtc.constants import (
        CompressionAlgorithm,
        HashAlgorithm,
        KeyFlags,
        PubKeyAlgorithm,
        SymmetricKeyAlgorithm,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(PGPUID.new("Example CSIRT", email="cert@example.org"),
                    usage={KeyFlags.Sign, KeyFlags.Certify}, hashes=[HashAlgorithm.SHA256],
                    ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.Uncompressed])
        key.protect(PASSPHRASE, SymmetricKeyAlgorithm.AES256, HashAlgorithm.SHA256)
    path = tmp_path_factory.mktemp("key") / "desk.asc"
    path.write_text(str(key))
    return path, key.pubkey


def _pub(demo_service: CaseService, **publish: object) -> PublicationService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"},
                             **publish)
    return PublicationService(CaseService(demo_service.db, settings,
                                          clock=demo_service.clock))


def _verify(public_key: object, root: Path) -> int:
    from pgpy_dtc import PGPSignature

    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for doc in root.rglob("*.json"):
            if doc.name == "provider-metadata.json":
                continue
            signature = PGPSignature.from_blob((doc.parent / (doc.name + ".asc")).read_text())
            assert public_key.verify(doc.read_bytes(), signature), doc  # type: ignore[attr-defined]
            assert not public_key.verify(doc.read_bytes() + b" ", signature)  # type: ignore[attr-defined]
            checked += 1
    return checked


def _audit(folder: Path, count: int) -> None:
    from csaf import audit_tree  # the csaf package's own check of a local provider tree

    audit = audit_tree(str(folder))
    # its changes.csv check expects CSAF 2.1's column order (date first); CSAF 2.0
    # (7.1.14), which the directory follows, puts the path first
    others = [v for v in audit.violations if v.rule != "changes-csv"]
    assert audit.advisory_count == count and not others and not audit.errors, audit


def test_publish_lays_out_a_signed_directory_and_rebuild_serves_every_current_document(
        demo_service: CaseService, desk_key: tuple[Path, object], tmp_path: Path) -> None:
    from cvdesk.publish.csaf import write_csaf
    from cvdesk.store.advisories import AdvisoryRepository
    from cvdesk.store.cases import CaseRepository

    key_file, public_key = desk_key
    pub = _pub(demo_service, publish={"base_url": BASE + "/"},
               mail={"private_key_file": str(key_file), "passphrase": PASSPHRASE})
    out = tmp_path / "csaf"
    view = pub.publish(FREE, ["csaf", "csaf-vex", "markdown"], provider_dir=out)
    provider = view.provider_dir
    assert provider is not None and provider.signed and provider.documents == 2
    tlp = json.loads(view.documents[0].content)["document"]["distribution"]["tlp"]["label"]
    folder = out / tlp.lower()
    assert provider.by_tlp == {tlp.lower(): 2}
    _audit(folder, 2)
    assert _verify(public_key, out) == 2
    assert not list(out.rglob("*.md"))  # only CSAF documents are served
    stored = {d.filename: d.content for d in view.documents}
    for doc in folder.rglob("*.json"):
        assert doc.read_bytes() == stored[doc.name]  # the bytes that were published

    # Other cases' documents, among them two versions of one and one under TLP RED.
    first = replace(SAMPLE, revisions=SAMPLE.revisions[:1], current_release=at(25))
    red = replace(SAMPLE, tracking_id="CVD-2025-0007", tlp=TLP.RED)
    with demo_service.db.transaction() as session:
        cases, docs = CaseRepository(session), AdvisoryRepository(session)
        for case_id, version, adv in (("CVD-2026-0013", 1, first),
                                      ("CVD-2026-0013", 2, SAMPLE),
                                      ("CVD-2026-0004", 1, red)):
            rendered = write_csaf(adv)
            docs.add(cases.case_row(case_id).id, version, at(version), [
                (rendered.format, rendered.filename, rendered.content,
                 hashlib.sha256(rendered.content).hexdigest())])
    again = pub.provider_directory(out)
    assert again.documents == 4 and again.signed
    assert again.by_tlp == {tlp.lower(): 2, "white": 1, "red": 1}
    white = out / "white" / "2026" / "cvd-2026-0042.json"
    assert white.read_bytes() == write_csaf(SAMPLE).content  # the current version only
    assert (out / "red" / "2026" / "cvd-2025-0007.json").exists()
    assert "cvd-2025-0007" not in (out / "white" / "index.txt").read_text()
    for name, count in ((tlp.lower(), 2), ("white", 1), ("red", 1)):
        _audit(out / name, count)
    assert _verify(public_key, out) == 4
    meta = json.loads((out / "provider-metadata.json").read_text())
    assert meta["canonical_url"] == BASE + "/provider-metadata.json"
    assert sorted(d["directory_url"] for d in meta["distributions"]) == sorted(
        f"{BASE}/{t}/" for t in (tlp.lower(), "white", "red"))
    assert meta["publisher"]["name"] == "Example CSIRT"


def test_without_a_key_the_directory_is_unsigned(demo_service: CaseService,
                                                 tmp_path: Path) -> None:
    pub = _pub(demo_service, publish={"base_url": BASE})
    view = pub.publish(FREE, ["csaf"], provider_dir=tmp_path / "csaf")
    assert view.provider_dir is not None and not view.provider_dir.signed
    assert not list((tmp_path / "csaf").rglob("*.asc"))
    assert len(list((tmp_path / "csaf").rglob("*.json"))) == 2  # the document + metadata


@pytest.mark.parametrize(("publish", "mail", "field"), [
    ({}, {}, "publish.base_url"),
    ({"base_url": "http://csirt.example/.well-known/csaf"}, {}, "publish.base_url"),
    ({"base_url": BASE}, {"private_key_file": "/nonexistent/desk.asc"},
     "mail.private_key_file"),
    ({"base_url": BASE}, {"passphrase": "wrong"}, "mail.private_key_file"),
])
def test_refused_before_publishing_when_the_directory_cannot_be_made(
        demo_service: CaseService, desk_key: tuple[Path, object], tmp_path: Path,
        publish: dict[str, str], mail: dict[str, str], field: str) -> None:
    if "passphrase" in mail:
        mail = {**mail, "private_key_file": str(desk_key[0])}
    pub = _pub(demo_service, publish=publish, mail=mail)
    before = table_counts(demo_service.db.url)
    for attempt in (lambda: pub.publish(FREE, provider_dir=tmp_path / "csaf"),
                    lambda: pub.provider_directory(tmp_path / "csaf")):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.field == field
    assert table_counts(demo_service.db.url) == before
    assert not (tmp_path / "csaf").exists()


def test_cli_refuses_without_base_url_and_rebuilds_with_it(
        demo_cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@example.org")
    before = demo_cli.counts()
    code, _, err = demo_cli("publish", FREE, "--provider-dir", str(tmp_path / "csaf"))
    assert code == 2 and "publish.base_url" in err
    assert demo_cli.counts() == before and not (tmp_path / "csaf").exists()
    code, _, err = demo_cli("advisory", "provider-dir", str(tmp_path / "csaf"))
    assert code == 2 and "publish.base_url" in err and not (tmp_path / "csaf").exists()

    monkeypatch.setenv("CVDESK_PUBLISH__BASE_URL", BASE)
    out = demo_cli.ok("publish", FREE, "--format", "csaf", "--provider-dir",
                      str(tmp_path / "csaf"))
    assert "provider directory" in out and "1 CSAF document" in out
    first = {p: p.read_bytes() for p in (tmp_path / "csaf").rglob("*")
             if p.is_file() and p.name != "provider-metadata.json"}
    rebuilt = demo_cli.json("advisory", "provider-dir", str(tmp_path / "rebuilt"))
    assert rebuilt["documents"] == 1 and not rebuilt["signed"]
    assert {p.relative_to(tmp_path / "csaf"): b for p, b in first.items()} == {
        p.relative_to(tmp_path / "rebuilt"): p.read_bytes()
        for p in (tmp_path / "rebuilt").rglob("*")
        if p.is_file() and p.name != "provider-metadata.json"}


def test_a_provider_directory_of_csaf_2_1_is_refused_before_publishing(
        demo_service: CaseService, tmp_path: Path) -> None:
    pub = _pub(demo_service, publish={"base_url": BASE + "/"})
    before = table_counts(demo_service.db.url)
    with pytest.raises(InvalidInput) as refused:
        pub.publish(FREE, ["csaf"], provider_dir=tmp_path / "csaf", csaf_version="2.1")
    assert refused.value.field == "provider directory"
    assert "nothing was published" in str(refused.value)
    assert table_counts(demo_service.db.url) == before
    assert not (tmp_path / "csaf").exists()
