"""A CSAF provider directory (CSAF 2.0 section 7.1): what a web server serves under
``/.well-known/csaf/`` so that aggregators and scanners find the advisories.  CSAF 2.0
documents only: a CSAF 2.1 document is refused (see ``_NOT_2_0``).

Layout, per the requirements of section 7.1 it meets:
  provider-metadata.json                         (7.1.7)
  <tlp>/<year>/<file>.json, .sha256, .sha512     (7.1.11 one folder per year of the
                                                  initial release; 7.1.18 hashes)
  <tlp>/<year>/<file>.json.asc                   (7.1.19 signatures, when ``sign`` is given)
  <tlp>/index.txt, <tlp>/changes.csv             (7.1.13, 7.1.14)
publish/ may not reach the OpenPGP helpers in channels/, so the caller passes ``sign``
(detached, ASCII-armoured signature of the given bytes) from there.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from cvdesk.domain.advisory import Publisher
from cvdesk.publish.common import InvalidAdvisory, Rendered
from cvdesk.publish.csaf import checksums

ROLES = ("csaf_publisher", "csaf_provider", "csaf_trusted_provider")
# CSAF 2.1 changes the directory's own files (provider metadata 2.1 with a TLP label per
# directory, changes.csv with the date first), and one provider-metadata.json cannot
# describe both; the directory is laid out for 2.0 documents only, and a 2.1 document is
# refused before anything is written rather than served under 2.0 metadata.
_NOT_2_0 = ("{name} is a CSAF {version} document: the provider directory is laid out for "
            "CSAF 2.0 documents (provider metadata 2.0, CSAF 2.0 section 7), so publish the "
            "advisories it serves in CSAF 2.0")


def write_provider_dir(rendered_docs: Sequence[Rendered], dir: Path, *, publisher: Publisher,
                       base_url: str, now: datetime, role: str = "csaf_provider",
                       sign: Callable[[bytes], bytes] | None = None,
                       public_key_url: str = "", key_fingerprint: str = "") -> list[Path]:
    """Write the documents and the directory's own files under ``dir``; returns the paths
    written.  ``base_url`` is where ``dir`` is served (".../.well-known/csaf")."""
    if role not in ROLES:
        raise InvalidAdvisory("csaf", [f"provider role {role!r} is not one of {ROLES}"])
    if role == "csaf_trusted_provider" and sign is None:
        raise InvalidAdvisory("csaf", ["a trusted provider must sign its documents"])
    base = base_url.rstrip("/")
    written: list[Path] = []
    by_tlp: dict[str, list[tuple[str, str]]] = {}  # tlp dir -> [(relative path, current)]
    placed: dict[str, Rendered] = {}  # relative path -> document
    problems = []
    for rendered in rendered_docs:  # every document is checked before any is written
        doc = json.loads(rendered.content)
        version = doc["document"].get("csaf_version")
        if version != "2.0":
            problems.append(_NOT_2_0.format(name=rendered.filename, version=version))
            continue
        tracking = doc["document"]["tracking"]
        tlp = doc["document"].get("distribution", {}).get("tlp", {}).get("label", "WHITE")
        folder = f"{tlp.lower()}/{tracking['initial_release_date'][:4]}"
        rel = f"{folder}/{rendered.filename}"
        if rel in placed:  # e.g. the advisory and its VEX document share a tracking id
            problems.append(f"two documents would both be {rel}")
            continue
        placed[rel] = rendered
        by_tlp.setdefault(tlp.lower(), []).append(
            (rel.split("/", 1)[1], tracking["current_release_date"]))
    if problems:
        raise InvalidAdvisory("csaf", problems)
    for rel, rendered in placed.items():
        files = [rendered, *checksums(rendered)]
        if sign is not None:
            files.append(Rendered(rendered.format + "-signature", rendered.filename + ".asc",
                                  sign(rendered.content), "application/pgp-signature"))
        folder = rel.rsplit("/", 1)[0]
        for f in files:
            written.append(_write(dir / folder / f.filename, f.content))
    for tlp, entries in sorted(by_tlp.items()):
        index = "".join(f"{path}\n" for path, _ in sorted(entries))
        written.append(_write(dir / tlp / "index.txt", index.encode()))
        out = io.StringIO()
        w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for path, current in sorted(entries, key=lambda e: (e[1], e[0]), reverse=True):
            w.writerow([path, current])  # newest first (7.1.14)
        written.append(_write(dir / tlp / "changes.csv", out.getvalue().encode()))
    meta = _metadata(publisher, base, sorted(by_tlp), now, role, public_key_url,
                     key_fingerprint)
    written.append(_write(dir / "provider-metadata.json",
                          (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()))
    return written


def _metadata(publisher: Publisher, base: str, tlps: list[str], now: datetime, role: str,
              key_url: str, fingerprint: str) -> dict:
    pub = {"category": publisher.category, "name": publisher.name,
           "namespace": publisher.namespace}
    if publisher.contact_details:
        pub["contact_details"] = publisher.contact_details
    if publisher.issuing_authority:
        pub["issuing_authority"] = publisher.issuing_authority
    meta: dict = {
        "canonical_url": f"{base}/provider-metadata.json",
        "distributions": [{"directory_url": f"{base}/{tlp}/"} for tlp in tlps],
        "last_updated": now.isoformat(),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": pub,
        "role": role,
    }
    if key_url:
        key: dict = {"url": key_url}
        if fingerprint:
            key["fingerprint"] = fingerprint
        meta["public_openpgp_keys"] = [key]
    return meta


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
