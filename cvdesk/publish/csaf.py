"""CSAF 2.0 (OASIS Common Security Advisory Framework): the machine-readable advisory
(profile csaf_security_advisory) and the VEX document (profile csaf_vex), both written
from the one advisory value (issue 10; guide 6.9 "publish").

What the writer decides, and why:
- Vendor statements decide product status; every status, score and remediation points
  at product ids from ``csaf_tree`` (deterministic, in tree order).
- CSAF 2.0 has room for one CWE and no CVSS v4.0: the first CWE goes in ``cwe``, the
  others and any CVSS v4.0 vector go in the vulnerability's notes, so nothing is lost.
- Statements entered by the coordinator on a vendor's behalf say so in a note: a reader
  must be able to tell an unconfirmed statement from the vendor's own word.
- The document is refused (``InvalidAdvisory``) rather than padded when the advisory
  lacks what the profile needs (e.g. no product status at all): CSAF readers act on
  these documents automatically, so an invented status would do harm.
Every document is validated offline (``csaf_check``) before it is returned.  CSAF 2.1
is written on request (``version="2.1"``) by ``csaf21``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from cvss import CVSS2, CVSS3
from cvss.exceptions import CVSSError

from cvdesk.domain.advisory import (
    Advisory,
    AdvisoryVulnerability,
    CreditType,
    ProductStatus,
    RemediationKind,
    Score,
)
from cvdesk.domain.model import TLP
from cvdesk.publish import csaf_check
from cvdesk.publish.common import InvalidAdvisory, Rendered
from cvdesk.publish.csaf_tree import VERSION, Leaf, TreeBuilder, VulnStatus, vuln_status

MEDIA_TYPE = "application/json"

# CSAF 2.0 uses TLP 1.0 labels (its schema allows WHITE, GREEN, AMBER, RED only).
# TLP 2.0 CLEAR means what TLP 1.0 WHITE meant; AMBER+STRICT has no TLP 1.0 label, so it
# is written as AMBER (the nearest, still restricted) and the stricter rule is spelled
# out in distribution.text, which every CSAF reader shows next to the label.
_TLP_V1 = {TLP.CLEAR: "WHITE", TLP.GREEN: "GREEN", TLP.AMBER: "AMBER",
           TLP.AMBER_STRICT: "AMBER", TLP.RED: "RED"}
_STRICT_TEXT = ("TLP:AMBER+STRICT (TLP 2.0): share only within your own organisation, not "
                "with its clients. CSAF 2.0 knows only TLP 1.0 labels, so the label says AMBER.")

_PUBLISHER_CATEGORIES = {"coordinator", "discoverer", "other", "translator", "user", "vendor"}
_PARTY = {"vendor": "vendor", "coordinator": "coordinator", "reporter": "discoverer",
          "finder": "discoverer", "discoverer": "discoverer", "user": "user"}
_REMEDY_WORDS = {
    RemediationKind.VENDOR_FIX: "A fix is available from the vendor.",
    RemediationKind.WORKAROUND: "A workaround is available.",
    RemediationKind.MITIGATION: "A mitigation is available.",
    RemediationKind.NONE_AVAILABLE: "No fix is available.",
    RemediationKind.NO_FIX_PLANNED: "No fix is planned.",
}
_CSAF_NAME_RE = re.compile(r"[^+\-a-z0-9]+")


def csaf_filename(tracking_id: str) -> str:
    """The file name CSAF 2.0 section 5.1 gives a document: the tracking id lowercased,
    each run of characters other than [+-a-z0-9] replaced by one "_", then ".json"."""
    return _CSAF_NAME_RE.sub("_", tracking_id.lower()) + ".json"


def checksums(rendered: Rendered) -> list[Rendered]:
    """The .sha256 and .sha512 files a CSAF provider serves beside each document
    (CSAF 2.0 section 7.1.18): "<hex digest>  <file name>" as sha256sum writes it."""
    out = []
    for algo in ("sha256", "sha512"):
        digest = hashlib.new(algo, rendered.content).hexdigest()
        out.append(Rendered(format=f"{rendered.format}-{algo}",
                            filename=f"{rendered.filename}.{algo}",
                            content=f"{digest}  {rendered.filename}\n".encode(),
                            media_type="text/plain"))
    return out


def write_csaf(adv: Advisory, *, vex: bool = False, version: str = "2.0",
               self_url: str = "") -> Rendered:
    """The CSAF document for ``adv`` in CSAF ``version`` ("2.0" or "2.1"), validated by
    the csaf package's schema and mandatory tests of that version; ``self_url`` is where
    it will be published, when known (the document's "self" reference)."""
    fmt = "csaf-vex" if vex else "csaf"
    if version not in csaf_check.SUPPORTED:
        raise InvalidAdvisory(fmt, [
            f"CSAF version {version!r} cannot be written: cvdesk writes CSAF "
            + " and ".join(csaf_check.SUPPORTED)])
    if version == "2.0":
        writer = _Writer(adv, vex)
    else:  # CSAF 2.1 is built directly: see csaf21 for why not converted from 2.0
        from cvdesk.publish.csaf21 import Writer21

        writer = Writer21(adv, vex)
    doc = writer.document(self_url)
    if writer.problems:
        raise InvalidAdvisory(fmt, writer.problems)
    found = csaf_check.problems(doc, version=version)
    if found:
        raise InvalidAdvisory(fmt, found)
    # sorted keys: the order CSAF recommends (2.0 6.2.13), and stable bytes for checksums
    content = (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True)
               + "\n").encode("utf-8")
    return Rendered(format=fmt, filename=csaf_filename(adv.tracking_id), content=content,
                    media_type=MEDIA_TYPE)


def _contacted(dates: tuple[datetime, ...]) -> str:
    if not dates:
        return "never contacted"
    return "contacted on " + ", ".join(d.date().isoformat() for d in dates)


def _engine_version() -> str:
    try:
        return dist_version("cvdesk")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0"


class _Writer:
    """The CSAF 2.0 writer.  ``csaf21.Writer21`` subclasses it for CSAF 2.1, overriding
    the parts 2.1 says differently (distribution, weaknesses, scores, involvements,
    remediations), so the two versions cannot drift apart on the rest."""

    VERSION = "2.0"
    SCORES = "scores"  # the vulnerability field that holds the CVSS scores

    def __init__(self, adv: Advisory, vex: bool) -> None:
        self.adv = adv
        self.vex = vex
        self.problems: list[str] = []
        self.statuses: list[VulnStatus] = []

    def date(self, at: datetime | None, what: str) -> str:
        if at is None or at.tzinfo is None:
            self.problems.append(f"{what}: needs a date with a time zone")
            return "1970-01-01T00:00:00Z"
        return at.isoformat()

    # -- document -------------------------------------------------------------------
    def document(self, self_url: str) -> dict:
        adv = self.adv
        tree = TreeBuilder()
        statuses = self.statuses = [vuln_status(tree, adv, v) for v in adv.vulnerabilities]
        ids, branches = tree.number()
        doc: dict = {"document": self.meta(self_url)}
        if branches:
            doc["product_tree"] = {"branches": branches}
        else:
            self.problems.append("no product is named in the advisory (a CSAF "
                                 "advisory needs at least one product)")
        if not adv.vulnerabilities:
            self.problems.append("the advisory has no vulnerability")
        doc["vulnerabilities"] = [self.vulnerability(v, st, ids)
                                  for v, st in zip(adv.vulnerabilities, statuses, strict=True)]
        return doc

    def meta(self, self_url: str) -> dict:
        adv, pub = self.adv, self.adv.publisher
        if pub.category not in _PUBLISHER_CATEGORIES:
            self.problems.append(f"publisher category {pub.category!r} is not one of "
                                 + ", ".join(sorted(_PUBLISHER_CATEGORIES)))
        publisher = {"category": pub.category, "name": pub.name, "namespace": pub.namespace}
        if pub.contact_details:
            publisher["contact_details"] = pub.contact_details
        if pub.issuing_authority:
            publisher["issuing_authority"] = pub.issuing_authority
        meta: dict = {
            "category": "csaf_vex" if self.vex else "csaf_security_advisory",
            "csaf_version": self.VERSION,
            "title": adv.title,
            "lang": adv.language,
            "publisher": publisher,
            "distribution": self.distribution(),
            "tracking": self.tracking(),
        }
        acks = [self.acknowledgment(a) for a in adv.acknowledgments]
        if acks:
            meta["acknowledgments"] = acks
        notes = []
        if adv.summary.strip():
            notes.append({"category": "summary", "title": "Summary", "text": adv.summary})
        if adv.timeline:
            lines = [f"{t.at.date().isoformat()}: {t.label}" for t in adv.timeline]
            notes.append({"category": "details", "title": "Timeline", "text": "\n".join(lines)})
        if notes:
            meta["notes"] = notes
        refs = []
        if self_url:
            refs.append({"category": "self", "summary": "This document", "url": self_url})
        refs += [{"category": "external", "summary": "Related information", "url": u}
                 for u in adv.references if u != self_url]
        if refs:
            meta["references"] = refs
        return meta

    def distribution(self) -> dict:
        distribution: dict = {"tlp": {"label": _TLP_V1[self.adv.tlp]}}
        if self.adv.tlp is TLP.AMBER_STRICT:
            distribution["text"] = _STRICT_TEXT
        return distribution

    def tracking(self) -> dict:
        adv = self.adv
        if not adv.revisions:
            self.problems.append("the advisory has no revision (a CSAF document needs at "
                                 "least one entry in its revision history)")
        history = [{"date": self.date(r.at, f"revision {r.number}"), "number": r.number,
                    "summary": r.summary or f"Revision {r.number}."} for r in adv.revisions]
        first = adv.revisions[0].at if adv.revisions else None
        last = adv.revisions[-1].at if adv.revisions else None
        return {
            "id": adv.tracking_id,
            "status": adv.status.value,
            "version": adv.version,
            "initial_release_date": self.date(adv.initial_release or first,
                                              "the initial release"),
            "current_release_date": self.date(adv.current_release or last,
                                              "the current release"),
            "revision_history": history,
            "generator": {"engine": {"name": "cvdesk", "version": _engine_version()}},
        }

    @staticmethod
    def acknowledgment(a) -> dict:
        ack: dict = {"names": [a.name]}
        if a.organization:
            ack["organization"] = a.organization
        summary = a.contribution or (a.credit_type.value
                                     if a.credit_type is not CreditType.OTHER else "")
        if summary:
            ack["summary"] = summary
        return ack

    # -- vulnerabilities ------------------------------------------------------------
    def vulnerability(self, v: AdvisoryVulnerability, st: VulnStatus,
                      ids: dict[Leaf, str]) -> dict:
        adv = self.adv
        out: dict = {}
        if v.cve:
            out["cve"] = v.cve
        else:  # a scoped-free id so the VEX profile (6.1.27.8) and readers can name it
            out["ids"] = [{"system_name": f"{adv.publisher.name} advisory",
                           "text": f"{adv.tracking_id}/{v.key}"}]
        notes: list[dict] = []
        self.weaknesses(v, out, notes)
        out["title"] = v.title
        if v.description.strip():
            notes.insert(0, {"category": "description", "title": "Description",
                             "text": v.description})
        else:
            notes.insert(0, {"category": "summary", "title": "Title", "text": v.title})
        notes += self.statement_notes(st) + self.unknown_notes(st)

        def pids(leaves: list[Leaf]) -> list[str]:
            return [ids[leaf] for leaf in leaves]

        status: dict = {}
        for name, leaves in (("known_affected", st.known_affected), ("fixed", st.fixed),
                             ("known_not_affected", st.known_not_affected),
                             ("under_investigation", st.under_investigation)):
            if leaves:
                status[name] = pids(leaves)
        first_fixed = [leaf for leaf in st.fixed if leaf.kind == VERSION]
        if first_fixed and not self.vex:  # the VEX profile allows only the four above
            status["first_fixed"] = pids(first_fixed)
        if status:
            out["product_status"] = status
            if set(status) == {"under_investigation"} and not self.vex:
                self.problems.append(
                    f"vulnerability {v.key} ({v.title}): every product is still under "
                    "investigation (a CSAF security advisory needs at least one product known "
                    "affected, not affected or fixed; a VEX document can say this)")
        else:
            self.problems.append(f"vulnerability {v.key} ({v.title}): no product is named as "
                                 "affected, fixed, not affected or under investigation")
        flags, threats = self.not_affected(v, st, ids)
        if flags:
            out["flags"] = flags
        if threats:
            out["threats"] = threats
        remediations = self.remediations(st, ids)
        if remediations:
            out["remediations"] = remediations
        scores, score_notes = self.scores(v, pids(st.known_affected))
        if scores:
            out[self.SCORES] = scores
        notes += score_notes
        out["notes"] = notes
        involvements = self.involvements(v, st)
        if involvements:
            out["involvements"] = involvements
        refs = [{"category": "external", "summary": "Reference", "url": u} for u in v.references]
        if v.cve:
            refs.append({"category": "external", "summary": f"CVE record {v.cve}",
                         "url": f"https://www.cve.org/CVERecord?id={v.cve}"})
        if refs:
            out["references"] = refs
        return out

    def weaknesses(self, v: AdvisoryVulnerability, out: dict, notes: list[dict]) -> None:
        """CSAF 2.0 has room for one CWE; the others go in a note."""
        if v.cwes:
            cwe = self.cwe(v, v.cwes[0])
            if cwe:
                out["cwe"] = cwe
            if len(v.cwes) > 1:
                notes.append({"category": "other", "title": "Further weaknesses (CWE)",
                              "text": ", ".join(v.cwes[1:])})

    def cwe(self, v: AdvisoryVulnerability, cwe_id: str) -> dict | None:
        name = csaf_check.cwe_name(cwe_id)
        if name is None:
            self.problems.append(f"vulnerability {v.key}: {cwe_id} is not in the CWE catalog")
            return None
        return {"id": cwe_id, "name": name}

    @staticmethod
    def statement_notes(st: VulnStatus) -> list[dict]:
        notes = []
        for (vendor, product), s in st.decided_by.items():
            if s is None or not (s.statement or s.on_behalf):
                continue
            text = s.statement
            if s.on_behalf:
                text = ((text + "\n\n") if text else "") + (
                    f"Entered by the coordinator on behalf of {vendor}; not yet confirmed "
                    f"by {vendor}.")
            who = " ".join(p for p in (vendor, product) if p)
            notes.append({"category": "other", "title": f"Statement on {who}", "text": text})
        return notes

    def unknown_notes(self, st: VulnStatus) -> list[dict]:
        """A vendor that never made a statement is named with its status unknown and
        the dates it was contacted (6.10 row 6), never left out.  CSAF 2.0 has no
        "unknown" product status and "under_investigation" would put words in the
        vendor's mouth, so the products stay as the case knows them (the versions the
        report found affected are "known_affected": the coordinator's finding) and this
        note says the vendor's status is unknown."""
        notes = []
        silent = dict.fromkeys(vendor for (vendor, _), s in st.decided_by.items()
                               if s is None and vendor)
        for vendor in silent:
            products = ", ".join(p for (v, p), s in st.decided_by.items()
                                 if v == vendor and s is None)
            notes.append({"category": "other", "title": f"Vendor status of {vendor}",
                          "text": f"{vendor}: unknown (no statement) for {products}; "
                                  + _contacted(self.adv.contact_dates(vendor)) + "."})
        return notes

    def not_affected(self, v: AdvisoryVulnerability, st: VulnStatus,
                     ids: dict[Leaf, str]) -> tuple[list[dict], list[dict]]:
        by_label: dict[str, list[str]] = {}
        threats = []
        for key, s in st.decided_by.items():
            if s is None or s.status is not ProductStatus.NOT_AFFECTED:
                continue
            pids = [ids[leaf] for leaf in st.leaves_of[key]["status"]]
            if s.justification:
                by_label.setdefault(s.justification.value, []).extend(pids)
            if s.statement:
                threats.append({"category": "impact", "details": s.statement,
                                "product_ids": pids})
            elif s.justification:
                threats.append({"category": "impact", "product_ids": pids,
                                "details": s.justification.value.replace("_", " ").capitalize()
                                + "."})
            elif self.vex:
                self.problems.append(
                    f"vulnerability {v.key}: {s.vendor} {s.product} is not affected, but no "
                    "justification or statement says why (a VEX document needs one)")
        flags = [{"label": label, "product_ids": pids} for label, pids in by_label.items()]
        return flags, threats

    def remediations(self, st: VulnStatus, ids: dict[Leaf, str]) -> list[dict]:
        out = []
        covered: set[str] = set()
        for key, s in st.decided_by.items():
            roles = st.leaves_of[key]
            pids = [ids[leaf] for leaf in roles["affected"] or roles["fixed"] or roles["status"]]
            given = s.remediations if s else ()
            for r in given:
                item: dict = {"category": r.kind.value,
                              "details": r.text or _REMEDY_WORDS[r.kind], "product_ids": pids}
                if r.url:
                    item["url"] = r.url
                out.append(item)
            has_fix = any(r.kind is RemediationKind.VENDOR_FIX for r in given)
            fixed_versions = [leaf.name for leaf in roles["fixed"] if leaf.kind == VERSION]
            if roles["fixed"] and not has_fix:
                details = ("Fixed in version " + ", ".join(fixed_versions) + "."
                           if fixed_versions else "Fixed according to the vendor.")
                out.append({"category": "vendor_fix", "details": details, "product_ids": pids})
            covered.update(pids if given or roles["fixed"] else ())
        if self.vex:  # every affected product needs an action statement (6.1.27.10)
            bare = [ids[leaf] for leaf in st.known_affected if ids[leaf] not in covered]
            if bare:
                out.append({"category": "none_available", "product_ids": bare,
                            "details": "No remediation was known to "
                                       f"{self.adv.publisher.name} when this was written."})
        return out

    def scores(self, v: AdvisoryVulnerability,
               products: list[str]) -> tuple[list[dict], list[dict]]:
        scores, notes, seen = [], [], set()
        for score in v.scores:
            obj = self.cvss(v, score)
            if obj is None:
                key = f"CVSS v{score.version}"
                notes.append({"category": "other", "title": key,
                              "text": f"{score.vector} (base score {score.base_score}, "
                                      f"{score.severity})"})
                continue
            field = "cvss_v2" if score.version == "2.0" else "cvss_v3"
            if field in seen or not products:  # one score per CVSS version per product
                notes.append({"category": "other", "title": f"CVSS v{score.version}",
                              "text": f"{score.vector} (base score {obj['baseScore']})"})
                continue
            seen.add(field)
            scores.append({field: obj, "products": products})
        return scores, notes

    def cvss(self, v: AdvisoryVulnerability, score: Score) -> dict | None:
        """The CVSS JSON object computed from the vector, or None for a version CSAF 2.0
        cannot carry (v4.0); a score that disagrees with its vector is a problem."""
        if score.version not in ("2.0", "3.0", "3.1"):
            return None
        try:
            calc = CVSS2(score.vector) if score.version == "2.0" else CVSS3(score.vector)
        except CVSSError as exc:
            self.problems.append(f"vulnerability {v.key}: CVSS vector {score.vector!r} is "
                                 f"not valid: {exc}")
            return None
        obj = calc.as_json(minimal=True)
        if score.version == "2.0":
            obj["vectorString"] = score.vector
        if abs(float(obj["baseScore"]) - score.base_score) > 0.05:
            self.problems.append(f"vulnerability {v.key}: CVSS base score {score.base_score} "
                                 f"does not match its vector (which gives {obj['baseScore']})")
        return obj

    def involvements(self, v: AdvisoryVulnerability, st: VulnStatus) -> list[dict]:
        """The case's involvements that concern this vulnerability; CSAF allows one per
        party category and date (6.1.24), so same-day entries are merged in one summary."""
        vendors = {vendor for vendor, _ in st.decided_by}
        merged: dict[tuple[str, str], dict] = {}
        for inv in self.adv.involvements:
            if inv.role == "vendor" and inv.party not in vendors:
                continue
            party = _PARTY.get(inv.role, "other")
            date = self.date(inv.at, f"involvement of {inv.party}") if inv.at else ""
            words = f"{inv.party}: {inv.status.value.replace('_', ' ')}"
            words += f" ({inv.summary})" if inv.summary else ""
            item = merged.get((party, date))
            if item is None:
                item = {"party": party, "status": inv.status.value, "summary": words}
                if date:
                    item["date"] = date
                merged[(party, date)] = item
            else:
                item["summary"] += "; " + words  # the status stays the first party's
        return list(merged.values())
