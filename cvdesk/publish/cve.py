"""The CVE record (JSON 5.x) for one vulnerability of an advisory.

A CVE record describes exactly one CVE, so a case with two vulnerabilities yields two
records, and a vulnerability that has no CVE id yet yields none: it is refused rather than
published under a made-up id.  What the record says is the advisory's word (appendix D:
product, versions, CWE, description, CVSS vector, credit, timeline, references); the
record is checked against the schema ``cvelib`` ships before anything is returned.

Submitting the record to CVE Services (``cvelib``'s API client) is configuration for the
services layer and is deliberately not here: this module never touches the network.  On
submission CVE Services sets ``cveMetadata`` itself; the full record written here is for
offline validation, archives and review.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cvelib.cve_api import CveRecord
from jsonschema import Draft7Validator, ValidationError

from cvdesk.domain.advisory import (
    Advisory,
    AdvisoryVulnerability,
    ProductStatus,
    RemediationKind,
    Score,
    VendorStatement,
)
from cvdesk.domain.model import AffectedProduct, VersionRange
from cvdesk.publish.common import InvalidAdvisory, Rendered
from cvdesk.publish.wire import (
    find_vulnerability,
    is_url,
    linear_unique,
    load_schema,
    package,
    schema_problems,
    utc_stamp,
)

FORMAT = "cve"
SCHEMA = Path(str(CveRecord.Schemas.V5_SCHEMA))
#: stands in for the CNA's organisation UUID until the desk is configured with its own;
#: CVE Services replaces cveMetadata on submission anyway
PLACEHOLDER_ORG_ID = "00000000-0000-4000-8000-000000000000"
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_ALL_VERSIONS = {"", "all", "all versions", "*"}


def data_version() -> str:
    """The record format version the bundled schema defines (its dataVersion default)."""
    return load_schema(SCHEMA)["definitions"]["dataVersion"]["default"]


def write_cve(adv: Advisory, vulnerability_key: str, *,
              assigner_org_id: str = PLACEHOLDER_ORG_ID,
              assigner_short_name: str = "") -> Rendered:
    vuln = _find(adv, vulnerability_key)
    problems = _precheck(adv, vuln, assigner_org_id, assigner_short_name)
    if problems:
        raise InvalidAdvisory(FORMAT, problems)
    record = record_for(adv, vuln, assigner_org_id, assigner_short_name)
    errors = schema_errors(record)
    if errors:
        raise InvalidAdvisory(FORMAT, schema_problems(errors))
    content = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Rendered(FORMAT, f"{vuln.cve}.json", content, "application/json")


@cache
def _validator() -> Any:
    return linear_unique(Draft7Validator)(load_schema(SCHEMA))


def schema_errors(record: dict) -> list[ValidationError]:
    """The record checked against the schema cvelib bundles, as ``CveRecord.validate``
    checks it (draft 7, no format checks), with two differences that keep publishing
    linear in the number of vendors: the schema is read and compiled once, not on every
    call, and "uniqueItems" is checked in one pass (``wire.linear_unique``) instead of
    jsonschema's pairwise comparison of objects."""
    return sorted(_validator().iter_errors(record), key=lambda e: e.message)


def _find(adv: Advisory, key: str) -> AdvisoryVulnerability:
    return find_vulnerability(adv, key, FORMAT)


def _precheck(adv: Advisory, vuln: AdvisoryVulnerability, org_id: str,
              short_name: str) -> list[str]:
    """The refusals worth a plain sentence rather than a schema path."""
    problems = []
    if not vuln.cve:
        problems.append(f"vulnerability {vuln.key} ({vuln.title}) has no CVE id: a CVE "
                        "record is written per CVE, so assign one first")
    if not _UUID4.fullmatch(org_id):
        problems.append(f"assigner organisation id '{org_id}' is not the UUID CVE "
                        "Services gave the organisation")
    if short_name and not 2 <= len(short_name) <= 32:
        problems.append("assigner short name must be 2 to 32 characters")
    if not (vuln.description.strip() or vuln.title.strip()):
        problems.append(f"vulnerability {vuln.key} has neither a description nor a title")
    if not adv.language.lower().startswith("en"):
        problems.append(f"the advisory's language is '{adv.language}': a CVE record needs "
                        "an English description")
    if not vuln.products:
        problems.append(f"vulnerability {vuln.key} names no affected product")
    urls = _references(adv, vuln)
    if not urls:
        problems.append(f"vulnerability {vuln.key} has no reference (URL): a CVE record "
                        "needs at least one")
    problems += [f"reference '{u}' is not an absolute URL" for u in urls if not is_url(u)]
    return problems


def record_for(adv: Advisory, vuln: AdvisoryVulnerability, org_id: str,
               short_name: str) -> dict:
    """The record as a dict, not yet validated (write_cve validates it)."""
    lang = adv.language
    provider: dict = {"orgId": org_id}
    if short_name:
        provider["shortName"] = short_name
    if adv.current_release:
        provider["dateUpdated"] = utc_stamp(adv.current_release)
    cna: dict = {"providerMetadata": provider}
    if vuln.title.strip():
        cna["title"] = vuln.title
    if adv.initial_release:
        cna["datePublic"] = utc_stamp(adv.initial_release)
    cna["descriptions"] = [{"lang": lang, "value": vuln.description or vuln.title}]
    statements = adv.statements_for(vuln.key)
    said = _statements_by_product(statements)
    cna["affected"] = [_product(p, _statement(said, p)) for p in vuln.products]
    if vuln.cwes:
        cna["problemTypes"] = [{"descriptions": [
            {"lang": lang, "description": cwe, "cweId": cwe, "type": "CWE"}]}
            for cwe in dict.fromkeys(vuln.cwes)]
    metrics = _unique(m for m in (_metric(s, lang) for s in vuln.scores) if m)
    if metrics:
        cna["metrics"] = metrics
    cna["references"] = [{"url": url} for url in _references(adv, vuln)]
    for field, kinds in (("solutions", {RemediationKind.VENDOR_FIX,
                                        RemediationKind.NO_FIX_PLANNED,
                                        RemediationKind.NONE_AVAILABLE}),
                         ("workarounds", {RemediationKind.WORKAROUND,
                                          RemediationKind.MITIGATION})):
        texts = _remediation_texts(statements, kinds)
        if texts:
            cna[field] = [{"lang": lang, "value": t} for t in texts]
    credits = _unique({"lang": lang, "value": _credit_name(a.name, a.organization),
                       "type": str(a.credit_type)}
                      for a in adv.acknowledgments if a.name.strip())
    if credits:
        cna["credits"] = credits
    timeline = _unique({"time": utc_stamp(t.at), "lang": lang, "value": t.label}
                       for t in adv.timeline if t.label.strip())
    if timeline:
        cna["timeline"] = timeline
    cna["source"] = {"advisory": adv.tracking_id, "discovery": "EXTERNAL"}
    metadata: dict = {"cveId": vuln.cve, "assignerOrgId": org_id, "state": "PUBLISHED"}
    if short_name:
        metadata["assignerShortName"] = short_name
    if adv.initial_release:
        metadata["datePublished"] = utc_stamp(adv.initial_release)
    if adv.current_release:
        metadata["dateUpdated"] = utc_stamp(adv.current_release)
    return {"dataType": "CVE_RECORD", "dataVersion": data_version(),
            "cveMetadata": metadata, "containers": {"cna": cna}}


_Said = dict[tuple[str, str], VendorStatement]


def _statements_by_product(statements: tuple[VendorStatement, ...]) -> tuple[_Said, _Said]:
    """The first statement per (vendor, product), and per product name alone (for a
    product listed without its vendor), so each affected entry finds its statement in
    one look-up rather than a scan of every statement (2,000 vendors made that scan
    quadratic)."""
    by_vendor: _Said = {}
    by_name: _Said = {}
    for s in statements:
        by_vendor.setdefault((s.vendor, s.product), s)
        by_name.setdefault(("", s.product), s)
    return by_vendor, by_name


def _statement(said: tuple[_Said, _Said], product: AffectedProduct) -> VendorStatement | None:
    by_vendor, by_name = said
    if product.vendor:
        return by_vendor.get((product.vendor, product.product))
    return by_name.get(("", product.product))


def _product(product: AffectedProduct, statement: VendorStatement | None) -> dict:
    """One affected entry.  The vendor's statement, when there is one, is its latest word
    and wins over the ranges recorded at intake: not affected means every version is
    unaffected; under investigation means unknown."""
    entry: dict = {"vendor": product.vendor or "N/A", "product": product.product}
    pkg = package(product.purl) if product.purl else None
    if pkg and pkg.collection_url:
        entry["collectionURL"] = pkg.collection_url
        entry["packageName"] = pkg.name
    if pkg and pkg.repo:
        entry["repo"] = pkg.repo
    if product.cpe:
        entry["cpes"] = [product.cpe]
    status = statement.status if statement else ProductStatus.AFFECTED
    if status == ProductStatus.NOT_AFFECTED:
        entry["defaultStatus"] = "unaffected"
        return entry
    if status == ProductStatus.UNDER_INVESTIGATION:
        entry["defaultStatus"] = "unknown"
        return entry
    version_type = pkg.version_type if pkg else "custom"
    ranges = list(product.versions)
    fixed = statement.fixed_version if statement else ""
    if fixed and not any(r.fixed for r in ranges):
        ranges = ranges or [VersionRange(fixed=fixed)]
    versions = _unique(_version(r, version_type) for r in ranges)
    if statement is None:
        # no word from the vendor (6.10 row 6): the versions the report found affected
        # are listed, the rest is unknown, not "unaffected"
        if versions:
            entry["versions"] = versions
        entry["defaultStatus"] = "unknown"
    elif versions:
        entry["versions"] = versions
        entry["defaultStatus"] = "unaffected"
    else:
        known_all = product.version_text.strip().lower() in _ALL_VERSIONS
        entry["defaultStatus"] = "affected" if known_all else "unknown"
    return entry


def _version(r: VersionRange, version_type: str) -> dict:
    entry = {"version": r.introduced or "0", "status": "affected", "versionType": version_type}
    if r.fixed:
        entry["lessThan"] = r.fixed
    elif r.last_affected:
        entry["lessThanOrEqual"] = r.last_affected
    else:
        entry["lessThan"] = "*"  # introduced, and nothing fixed since
    return entry


_V31 = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL",
                            "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "R": "REQUIRED"}),
    "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
    "C": ("confidentialityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "I": ("integrityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "A": ("availabilityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
}
_NLH = {"N": "NONE", "L": "LOW", "H": "HIGH"}
_V40 = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT", "L": "LOCAL", "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "AT": ("attackRequirements", {"N": "NONE", "P": "PRESENT"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "P": "PASSIVE", "A": "ACTIVE"}),
    "VC": ("vulnConfidentialityImpact", _NLH), "VI": ("vulnIntegrityImpact", _NLH),
    "VA": ("vulnAvailabilityImpact", _NLH), "SC": ("subConfidentialityImpact", _NLH),
    "SI": ("subIntegrityImpact", _NLH), "SA": ("subAvailabilityImpact", _NLH),
}
_METRIC_KEYS = {"3.1": ("cvssV3_1", _V31), "3.0": ("cvssV3_0", _V31),
                "4.0": ("cvssV4_0", _V40)}


def _metric(score: Score, lang: str) -> dict | None:
    """A metrics entry with the base metrics spelt out as the schema names them; the
    vector string stays the authority (appendix D: give the vector, not only the score)."""
    if score.version not in _METRIC_KEYS:
        return None
    key, names = _METRIC_KEYS[score.version]
    cvss: dict = {"version": score.version, "vectorString": score.vector,
                  "baseScore": round(score.base_score, 1),
                  "baseSeverity": score.severity.upper()}
    for part in score.vector.split("/")[1:]:
        metric, _, value = part.partition(":")
        if metric in names and value in names[metric][1]:
            cvss[names[metric][0]] = names[metric][1][value]
    return {"format": "CVSS", "scenarios": [{"lang": lang, "value": "GENERAL"}], key: cvss}


def _references(adv: Advisory, vuln: AdvisoryVulnerability) -> list[str]:
    urls = [*vuln.references, *adv.references]
    urls += [r.url for s in adv.statements_for(vuln.key) for r in s.remediations]
    return [u for u in dict.fromkeys(urls) if u.strip()]


def _remediation_texts(statements: tuple[VendorStatement, ...],
                       kinds: set[RemediationKind]) -> list[str]:
    texts = []
    for s in statements:
        for r in s.remediations:
            if r.kind in kinds and (r.text.strip() or r.url):
                text = r.text.strip() or r.url
                label = _NO_FIX.get(r.kind, "")
                texts.append(f"{s.product} ({s.vendor}): {label}{text}")
    return list(dict.fromkeys(texts))


_NO_FIX = {RemediationKind.NO_FIX_PLANNED: "no fix planned: ",
           RemediationKind.NONE_AVAILABLE: "no fix available yet: "}


def _credit_name(name: str, organization: str) -> str:
    return f"{name} ({organization})" if organization.strip() else name


def _unique(items) -> list[dict]:
    """The schema wants uniqueItems: drop exact repeats, keep the first-seen order."""
    seen: list[dict] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
