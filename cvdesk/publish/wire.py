"""Helpers the JSON writers (CVE record, OSV) share: UTC timestamps, what a package URL
says about a product's ecosystem, and schema errors turned into readable problems.

Kept apart from the writers so the two formats read a purl the same way: a product that
is "PyPI libquill" in the OSV record is the same package in the CVE record.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import ValidationError, validators
from packageurl import PackageURL

from cvdesk.domain.advisory import Advisory, AdvisoryVulnerability
from cvdesk.domain.safetext import BIDI
from cvdesk.publish.common import InvalidAdvisory

SCHEMAS = Path(__file__).parent / "schemas"


def utc_stamp(at: datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second: the one form OSV accepts and CVE allows.
    A naive datetime is read as UTC (the domain keeps aware ones)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_url(text: str) -> bool:
    """An absolute URL a reader can follow: a scheme, a host, no spaces, controls (C0, DEL,
    C1) or bidi controls (which would show the address as another).  The schemas say
    "format: uri" but their validators do not check formats."""
    if not text or any(c.isspace() or ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in '<>"'
                       or ord(c) in BIDI for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("https", "http", "ftp") and bool(parts.netloc)


@cache
def load_schema(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _json_key(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value that is equal exactly when JSON Schema calls
    the values equal: 1 and 1.0 are one number, true is not 1, key order does not count."""
    if isinstance(value, dict):
        return ("object", frozenset((k, _json_key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("array", tuple(_json_key(v) for v in value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)  # Python already has 1 == 1.0 with equal hashes
    return ("other", value)


def _unique_items(validator: Any, unique: bool, instance: Any,
                  schema: dict) -> Iterable[ValidationError]:
    """"uniqueItems" in one pass.  jsonschema compares the items pairwise when they
    cannot be sorted (objects), so a CVE record whose 2,000 affected vendors each have a
    solution took time growing with the square of the vendors (issue 10: publishing
    must grow linearly); the answer and the message are the same as jsonschema's."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Hashable] = set()
    for item in instance:
        key = _json_key(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


def linear_unique(cls: Any) -> Any:
    """The validator class ``cls`` with the one-pass "uniqueItems"."""
    return validators.extend(cls, {"uniqueItems": _unique_items})


def _leaves(error: ValidationError) -> Iterable[ValidationError]:
    """A oneOf/anyOf error holds the errors of every alternative; the alternative that
    came closest (fewest errors, then the deepest) is the one worth reporting."""
    if not error.context:
        yield error
        return
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    closest = min(branches.values(),
                  key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))
    for sub in closest:
        yield from _leaves(sub)


def schema_problems(errors: Iterable[ValidationError], limit: int = 10) -> list[str]:
    """Each schema error as "where: what", short enough to read in a terminal."""
    problems = []
    leaves = [leaf for error in errors for leaf in _leaves(error)]
    for error in sorted(leaves, key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        problems.append(f"{where}: {message}")
        if len(problems) == limit:
            problems.append("(more problems not shown)")
            break
    return problems


@dataclass(frozen=True, slots=True)
class Package:
    """What a package URL tells the formats: the OSV ecosystem and package name, the CVE
    collection URL and version type.  Empty strings where the purl type is not known."""

    purl: str  # without a version: it names the package, not one release
    type: str
    name: str  # the name as the ecosystem writes it (Maven group:artifact, npm @scope/x)
    ecosystem: str = ""
    collection_url: str = ""
    version_type: str = "custom"
    repo: str = ""  # a source repository URL (GitHub and the like), for git ranges


#: purl type -> (OSV ecosystem, CVE collectionURL, CVE versionType)
_TYPES: dict[str, tuple[str, str, str]] = {
    "pypi": ("PyPI", "https://pypi.python.org", "python"),
    "npm": ("npm", "https://registry.npmjs.org", "semver"),
    "maven": ("Maven", "https://repo.maven.apache.org/maven2", "maven"),
    "golang": ("Go", "https://golang.org/pkg", "semver"),
    "cargo": ("crates.io", "https://crates.io", "semver"),
    "gem": ("RubyGems", "https://rubygems.org", "custom"),
    "nuget": ("NuGet", "https://nuget.org/packages", "custom"),
    "composer": ("Packagist", "https://packagist.org", "custom"),
    "hex": ("Hex", "https://repo.hex.pm", "semver"),
    "pub": ("Pub", "https://pub.dev", "semver"),
    "hackage": ("Hackage", "https://hackage.haskell.org", "custom"),
    "cran": ("CRAN", "https://cran.r-project.org", "custom"),
    "conan": ("ConanCenter", "https://conan.io/center", "custom"),
    "swift": ("SwiftURL", "", "semver"),
    "opam": ("opam", "https://opam.ocaml.org/packages", "custom"),
    "bitnami": ("Bitnami", "", "custom"),
    "githubactions": ("GitHub Actions", "https://github.com", "custom"),
    "github": ("GIT", "https://github.com", "git"),  # OSV: commit-hash ranges only
}
#: distribution packages: the purl namespace names the distribution
_DISTROS: dict[str, str] = {
    "debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine", "redhat": "Red Hat",
    "opensuse": "openSUSE", "suse": "SUSE", "almalinux": "AlmaLinux",
    "rocky-linux": "Rocky Linux", "wolfi": "Wolfi", "chainguard": "Chainguard",
    "mageia": "Mageia", "openeuler": "openEuler",
}
_DISTRO_COLLECTIONS = {"debian": "https://packages.debian.org"}
_JOINED_BY_SLASH = {"npm", "golang", "composer", "github", "githubactions", "swift"}


def package(purl: str) -> Package | None:
    """The package a purl names, or None when the purl does not parse."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    bare = PackageURL(type=parsed.type, namespace=parsed.namespace, name=parsed.name,
                      qualifiers=parsed.qualifiers, subpath=parsed.subpath).to_string()
    namespace, kind = parsed.namespace or "", parsed.type
    if kind == "maven" and namespace:
        name = f"{namespace}:{parsed.name}"
    elif kind in _JOINED_BY_SLASH and namespace:
        name = f"{namespace}/{parsed.name}"
    else:
        name = parsed.name
    if kind in ("deb", "apk", "rpm"):
        distro = namespace.lower()
        return Package(bare, kind, name, _DISTROS.get(distro, ""),
                       _DISTRO_COLLECTIONS.get(distro, ""),
                       "rpm" if kind == "rpm" else "custom")
    ecosystem, collection, version_type = _TYPES.get(kind, ("", "", "custom"))
    if kind == "github":
        repo = f"https://github.com/{name}"
        return Package(bare, kind, name, ecosystem if namespace else "", collection,
                       version_type, repo)
    return Package(bare, kind, name, ecosystem, collection, version_type)


def find_vulnerability(adv: Advisory, key: str, fmt: str) -> AdvisoryVulnerability:
    """The advisory's vulnerability ``key``, or the format's refusal naming those it has."""
    for vuln in adv.vulnerabilities:
        if vuln.key == key:
            return vuln
    known = ", ".join(v.key for v in adv.vulnerabilities) or "none"
    raise InvalidAdvisory(fmt, [f"advisory {adv.tracking_id} has no vulnerability {key} "
                                f"(it has: {known})"])
