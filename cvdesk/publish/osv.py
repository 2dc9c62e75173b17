"""The OSV record for one vulnerability of an advisory (https://ossf.github.io/osv-schema/).

OSV is read by package scanners, so every ``affected`` entry must name a package in an
ecosystem OSV knows (PyPI, npm, Maven, Debian ...).  cvdesk learns the ecosystem from the
product's package URL.  A product without one (a router firmware, a hosted service), or
whose purl type OSV has no ecosystem for, cannot be written as an OSV package; rather than
refuse the whole record (the other products and the CVE alias are still worth publishing)
it is left out of ``affected`` and listed in ``database_specific.products_not_listed``
with the reason, so nothing the vendor said disappears silently.  Products a vendor stated
are not affected, or that are still under investigation, are listed there too: OSV has no
"unaffected" or "unknown" entry, and leaving them in ``affected`` would make scanners warn.

The record is validated against the OSV schema bundled in ``publish/schemas`` before it is
returned; nothing here touches the network.
"""

from __future__ import annotations

import json
import re
from functools import cache

from jsonschema import Draft202012Validator

from cvdesk.domain.advisory import (
    Advisory,
    AdvisoryVulnerability,
    ProductStatus,
    RemediationKind,
    VendorStatement,
)
from cvdesk.domain.model import AffectedProduct, VersionRange
from cvdesk.publish.common import InvalidAdvisory, Rendered
from cvdesk.publish.wire import (
    SCHEMAS,
    Package,
    find_vulnerability,
    is_url,
    load_schema,
    package,
    schema_problems,
    utc_stamp,
)

FORMAT = "osv"
SCHEMA = SCHEMAS / "osv-schema.json"
SCHEMA_VERSION = "1.7.4"  # the spec version the bundled schema matches
_ID_CHARS = re.compile(r"^[A-Za-z0-9._:+-]+$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_COMMIT = re.compile(r"^(0|[a-f0-9]{40}|[a-f0-9]{64})$")
_ALL_VERSIONS = {"", "all", "all versions", "*"}


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(SCHEMA),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def osv_id(adv: Advisory, vuln: AdvisoryVulnerability, id_prefix: str) -> str:
    """A CVE is unique on its own; a local key ("V2") only within its case, so it carries
    the case id."""
    return f"{id_prefix}-{vuln.cve}" if vuln.cve else f"{id_prefix}-{adv.case_id}-{vuln.key}"


def write_osv(adv: Advisory, vulnerability_key: str, *, id_prefix: str) -> Rendered:
    vuln = _find(adv, vulnerability_key)
    record_id = osv_id(adv, vuln, id_prefix)
    problems = _precheck(adv, vuln, id_prefix, record_id)
    if problems:
        raise InvalidAdvisory(FORMAT, problems)
    record = record_for(adv, vuln, record_id)
    errors = list(_validator().iter_errors(record))
    if errors:
        raise InvalidAdvisory(FORMAT, schema_problems(errors))
    content = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Rendered(FORMAT, f"{record_id}.json", content, "application/json")


def _find(adv: Advisory, key: str) -> AdvisoryVulnerability:
    return find_vulnerability(adv, key, FORMAT)


def _modified(adv: Advisory):
    if adv.current_release:
        return adv.current_release
    if adv.revisions:
        return adv.revisions[-1].at
    return adv.initial_release


def _precheck(adv: Advisory, vuln: AdvisoryVulnerability, id_prefix: str,
              record_id: str) -> list[str]:
    problems = []
    prefix = re.compile(load_schema(SCHEMA)["$defs"]["prefix"]["pattern"])
    if not _ID_CHARS.fullmatch(record_id) or not prefix.match(record_id):
        problems.append(f"the OSV id prefix '{id_prefix}' (id '{record_id}') is not one "
                        "registered with OSV; an unregistered database uses a prefix "
                        "starting with 'x_', and ids use letters, digits and . _ : + -")
    if _modified(adv) is None:
        problems.append("the advisory has no release or revision date, and an OSV record "
                        "must say when it was last modified")
    problems += [f"reference '{u}' is not an absolute URL"
                 for u, _ in _references(adv, vuln) if not is_url(u)]
    return problems


def record_for(adv: Advisory, vuln: AdvisoryVulnerability, record_id: str) -> dict:
    """The record as a dict, not yet validated (write_osv validates it)."""
    modified = _modified(adv)
    assert modified is not None  # _precheck refused it
    record: dict = {"schema_version": SCHEMA_VERSION, "id": record_id,
                    "modified": utc_stamp(modified)}
    if adv.initial_release:
        record["published"] = utc_stamp(adv.initial_release)
    if vuln.cve:
        record["aliases"] = [vuln.cve]
    if vuln.title.strip():
        record["summary"] = vuln.title
    details = vuln.description.strip() or adv.summary.strip()
    if details:
        record["details"] = details
    severity = [{"type": "CVSS_V4" if s.version.startswith("4") else "CVSS_V3",
                 "score": s.vector} for s in vuln.scores if s.version[:1] in ("3", "4")]
    if severity:
        record["severity"] = list({s["score"]: s for s in severity}.values())
    statements = adv.statements_for(vuln.key)
    affected, not_listed = [], []
    for product in vuln.products:
        statement = _statement(statements, product)
        entry, reason = _affected(product, statement)
        if entry:
            affected.append(entry)
        else:
            not_listed.append({"vendor": product.vendor, "product": product.product,
                               "reason": reason})
    if affected:
        record["affected"] = affected
    references = [{"type": kind, "url": url} for url, kind in _references(adv, vuln)]
    if references:
        record["references"] = references
    credits = [{"name": f"{a.name} ({a.organization})" if a.organization.strip() else a.name,
                "type": str(a.credit_type).upper().replace(" ", "_")}
               for a in adv.acknowledgments if a.name.strip()]
    if credits:
        record["credits"] = credits
    specific: dict = {"tlp": str(adv.tlp), "case_id": adv.case_id,
                      "advisory": adv.tracking_id, "advisory_version": adv.version}
    if vuln.cwes:
        specific["cwe_ids"] = list(dict.fromkeys(vuln.cwes))
    specific["statements"] = [_statement_json(s) for s in statements]
    if not_listed:
        specific["products_not_listed"] = not_listed
    record["database_specific"] = specific
    return record


def _statement(statements: tuple[VendorStatement, ...],
               product: AffectedProduct) -> VendorStatement | None:
    for s in statements:
        if s.product == product.product and (not product.vendor or s.vendor == product.vendor):
            return s
    return None


def _affected(product: AffectedProduct,
              statement: VendorStatement | None) -> tuple[dict | None, str]:
    """The affected entry for one product, or None and the reason it is not listed."""
    if statement and statement.status == ProductStatus.NOT_AFFECTED:
        return None, "the vendor states it is not affected"
    if statement and statement.status == ProductStatus.UNDER_INVESTIGATION:
        return None, "the vendor is still investigating"
    pkg = package(product.purl) if product.purl else None
    if not product.purl:
        return None, "no package URL (purl), so no OSV ecosystem"
    if pkg is None:
        return None, f"the package URL '{product.purl}' does not parse"
    if not pkg.ecosystem:
        return None, f"OSV has no ecosystem for package URL type '{pkg.type}'"
    ranges = list(product.versions)
    fixed = statement.fixed_version if statement else ""
    specific: dict = {"vendor": product.vendor, "product": product.product}
    if not ranges:
        if fixed:
            ranges = [VersionRange(fixed=fixed)]
        else:
            # nothing known about versions: listing every version warns too often rather
            # than too rarely, and the words the vendor gave travel along
            ranges = [VersionRange(introduced="0")]
            if product.version_text.strip().lower() not in _ALL_VERSIONS:
                specific["versions_text"] = product.version_text
    written = [_range(r, pkg) for r in ranges]
    name = pkg.name
    if pkg.ecosystem == "GIT":
        # OSV's GIT "ecosystem" is a repository named by URL, its ranges commit hashes
        if any(w["type"] != "GIT" for w in written):
            return None, ("a source repository is listed by commit hashes in OSV, and "
                          "these versions are not commit hashes")
        name = pkg.repo
    entry: dict = {"package": {"ecosystem": pkg.ecosystem, "name": name, "purl": pkg.purl},
                   "ranges": written,
                   "database_specific": specific}
    return entry, ""


def _range(r: VersionRange, pkg: Package) -> dict:
    """GIT when the versions are commit hashes of a known repository; SEMVER when the
    ecosystem orders by SemVer and the versions are SemVer; the ecosystem's order else."""
    events = [("introduced", r.introduced or "0")]
    if r.fixed:
        events.append(("fixed", r.fixed))
    elif r.last_affected:
        events.append(("last_affected", r.last_affected))
    values = [v for _, v in events]
    if pkg.repo and all(_COMMIT.fullmatch(v) for v in values):
        return {"type": "GIT", "repo": pkg.repo,
                "events": [{k: v} for k, v in events]}
    if pkg.version_type == "semver":
        stripped = [(k, v[1:] if v[:1] == "v" and _SEMVER.fullmatch(v[1:]) else v)
                    for k, v in events]
        if all(v == "0" or _SEMVER.fullmatch(v) for _, v in stripped):
            return {"type": "SEMVER", "events": [{k: v} for k, v in stripped]}
    return {"type": "ECOSYSTEM", "events": [{k: v} for k, v in events]}


def _references(adv: Advisory, vuln: AdvisoryVulnerability) -> list[tuple[str, str]]:
    refs: dict[str, str] = {}
    for url in adv.references:
        refs.setdefault(url, "ADVISORY")
    for url in vuln.references:
        refs.setdefault(url, "WEB")
    for s in adv.statements_for(vuln.key):
        for r in s.remediations:
            if r.url:
                refs.setdefault(r.url, "FIX" if r.kind == RemediationKind.VENDOR_FIX
                                else "WEB")
    return [(url, kind) for url, kind in refs.items() if url.strip()]


def _statement_json(s: VendorStatement) -> dict:
    """A vendor statement as OSV carries it: database_specific, in cvdesk's own words."""
    out: dict = {"vendor": s.vendor, "product": s.product, "status": str(s.status)}
    if s.justification:
        out["justification"] = str(s.justification)
    if s.fixed_version:
        out["fixed_version"] = s.fixed_version
    if s.statement:
        out["statement"] = s.statement
    if s.remediations:
        out["remediations"] = [{"category": str(r.kind), "text": r.text, "url": r.url}
                               for r in s.remediations]
    out["confirmed_by_vendor"] = not s.on_behalf
    if s.at:
        out["at"] = utc_stamp(s.at)
    return out
