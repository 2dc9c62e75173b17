"""CSAF 2.1: the same advisory as ``csaf`` writes in 2.0, in the shape CSAF 2.1 gives it.

Built directly rather than converted from the 2.0 document with the csaf package's
``convert``: that converter drops every involvement it cannot place (our contact-log
involvements name no receiving party, so all of them went), leaves CVSS v4.0 vectors and
further CWEs in notes although 2.1 has fields for them, and its report then has to be
read for losses.  Written directly, nothing is lost and the document is still checked by
the package's 2.1 schema and mandatory tests (``csaf_check``) like a 2.0 one.

What 2.1 says differently, and how:
- ``$schema`` names the 2.1 schema; TLP 2.0 labels are written as they are (CLEAR,
  AMBER+STRICT), so no note is needed for AMBER+STRICT.
- The publisher's contact is ``contact.details`` (and ``contact.email`` when the desk's
  contact is a bare address).
- Every CWE goes in ``cwes`` with its catalog version; CVSS v3 and v4.0 go in ``metrics``.
- Involvements move to ``document.involvement``: one entity per party and one for the
  publisher (the desk), one action per involvement from the contact log (who acted, who
  received it, the date), naming the vulnerabilities it concerns by ``dl_vuln_id`` when
  it does not concern them all.  An involvement without a date (an action needs one)
  is kept in a document note.
- A vendor fix offered for a product that is not affected is an ``optional_patch``
  (6.1.36 allows no other remediation for such a product).
- CSAF 2.1 test 6.1.35 counts a workaround or mitigation as a remedy, so a statement that
  offers one and also says "no fix planned" (or "none available") would contradict
  itself: the no-fix words are kept in the details of the remedy instead.
- Product identification helpers carry ``purls`` (a list) instead of ``purl``.
- Refused in domain words where 2.1 asks more than 2.0: a version range given only as
  free text, a security advisory with no affected product, a fixed product with no
  affected version beside it (tests 6.1.50, 6.1.27.12, 6.1.27.13).
"""

from __future__ import annotations

import json
import re

from cvdesk.domain.advisory import (
    AdvisoryVulnerability,
    Involvement,
    InvolvementStatus,
    RemediationKind,
    Score,
)
from cvdesk.domain.model import TLP
from cvdesk.publish import csaf_check
from cvdesk.publish.csaf import _PARTY, _REMEDY_WORDS, _Writer
from cvdesk.publish.csaf_tree import RANGE, Leaf, VulnStatus

#: the ``$id`` of the CSAF 2.1 JSON schema, which a 2.1 document names in ``$schema``
SCHEMA_URI = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
PUBLISHER = "EID-Publisher"

_TLP_V2 = {TLP.CLEAR: "CLEAR", TLP.GREEN: "GREEN", TLP.AMBER: "AMBER",
           TLP.AMBER_STRICT: "AMBER+STRICT", TLP.RED: "RED"}
_ENTITY_CATEGORIES = {"adversary", "coordinator", "discoverer", "multiplier", "other",
                      "public", "reporting_authority", "user", "vendor"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A remedy (6.1.35 "fix present") and the no-fix categories it contradicts
_REMEDIES = {"vendor_fix", "workaround", "mitigation", "fix_planned"}
_NO_FIX = {RemediationKind.NO_FIX_PLANNED.value, RemediationKind.NONE_AVAILABLE.value}

# CSAF 2.0 involvement status -> (2.1 action category, action status, does the party act?)
# The desk is the publisher: it notifies a vendor (the desk acts, the vendor receives),
# and a vendor that took part coordinates with the desk (the vendor acts).  "disputed" is
# an assessment by the party: a 2.1 "dispute" must point at the action it disputes, and
# the contact log records none.
_ACTIONS: dict[InvolvementStatus, tuple[str, str, bool]] = {
    InvolvementStatus.COMPLETED: ("coordination", "completed", True),
    InvolvementStatus.IN_PROGRESS: ("coordination", "in_progress", True),
    InvolvementStatus.OPEN: ("coordination", "outstanding", True),
    InvolvementStatus.DISPUTED: ("assessment", "completed", True),
    InvolvementStatus.CONTACT_ATTEMPTED: ("notification", "attempted", False),
    InvolvementStatus.NOT_CONTACTED: ("notification", "deferred", False),
}


class Writer21(_Writer):
    VERSION = "2.1"
    SCORES = "metrics"

    # -- document ---------------------------------------------------------------------
    def document(self, self_url: str) -> dict:
        doc = super().document(self_url)
        doc = {"$schema": SCHEMA_URI, **doc}
        if "product_tree" in doc:
            _purls(doc["product_tree"]["branches"], self.problems)
        vulns = doc["vulnerabilities"]
        involvement, undated = self.involvement(len(vulns))
        if involvement["actions"]:
            doc["document"]["involvement"] = involvement
        if any("dl_vuln_ids" in a for a in involvement["actions"]):
            for n, vuln in enumerate(vulns, 1):
                vuln["dl_vuln_id"] = _vuln_id(n)
        if undated:
            doc["document"].setdefault("notes", []).append(
                {"category": "details", "title": "Involvements without a date",
                 "text": "\n".join(undated)})
        return doc

    def meta(self, self_url: str) -> dict:
        meta = super().meta(self_url)
        publisher = meta["publisher"]
        details = publisher.pop("contact_details", "")
        if details:
            contact = {"details": details}
            if _EMAIL.fullmatch(details.strip()):
                contact["email"] = details.strip()
            publisher["contact"] = contact
        return meta

    def distribution(self) -> dict:
        return {"tlp": {"label": _TLP_V2[self.adv.tlp]}}

    # -- involvement ------------------------------------------------------------------
    def involvement(self, n_vulns: int) -> tuple[dict, list[str]]:
        """``document.involvement`` from the contact log, and the involvements that
        have no date (a 2.1 action needs one), in words for a note."""
        pub = self.adv.publisher
        publisher_category = pub.category if pub.category in _ENTITY_CATEGORIES else "other"
        entities: list[dict] = [{"category": publisher_category, "entity_id": PUBLISHER,
                                 "name": pub.name}]
        entity_of: dict[tuple[str, str], str] = {}
        actions: list[dict] = []
        undated: list[str] = []
        seen: dict[str, dict] = {}
        concerns = [{vendor for vendor, _ in st.decided_by} for st in self.statuses]
        for inv in self.adv.involvements:
            vulns = [_vuln_id(i) for i in range(1, n_vulns + 1)
                     if inv.role != "vendor" or inv.party in concerns[i - 1]]
            if not vulns:  # a vendor named in no vulnerability: as in 2.0, left out
                continue
            if inv.at is None:
                undated.append(_words(inv))
                continue
            category = _PARTY.get(inv.role, "other")
            key = (category, inv.party)
            if key not in entity_of:
                entity_of[key] = f"EID-{len(entity_of) + 1:04d}"
                entities.append({"category": category, "entity_id": entity_of[key],
                                 "name": inv.party})
            kind, status, party_acts = _ACTIONS[inv.status]
            party, desk = [entity_of[key]], [PUBLISHER]
            action = {
                "action_id": f"ACN-{len(actions) + 1:04d}",
                "category": kind, "status": status,
                "date": self.date(inv.at, f"involvement of {inv.party}"),
                "acting_entity_refs": party if party_acts else desk,
                "receiving_entity_refs": desk if party_acts else party,
                "summary": _words(inv)}
            if len(vulns) < n_vulns:  # without dl_vuln_ids it concerns them all (6.2.56.4)
                action["dl_vuln_ids"] = vulns
            # One action per step: the same kind of step between the same parties on the
            # same date is one action (6.1.24, 6.1.64.2), its summary naming each entry,
            # its status the first one's (as 2.0 merges same-day involvements)
            same = json.dumps([action[k] for k in ("category", "date", "acting_entity_refs",
                                                    "receiving_entity_refs")]
                              + [action.get("dl_vuln_ids")])
            if same in seen:
                earlier = seen[same]
                if action["summary"] not in earlier["summary"].split("; "):
                    earlier["summary"] += "; " + action["summary"]
                continue
            seen[same] = action
            actions.append(action)
        return {"actions": actions, "entities": entities}, undated

    def involvements(self, v: AdvisoryVulnerability, st: VulnStatus) -> list[dict]:
        return []  # 2.1 keeps them in document.involvement

    # -- vulnerability ----------------------------------------------------------------
    def vulnerability(self, v: AdvisoryVulnerability, st: VulnStatus,
                      ids: dict[Leaf, str]) -> dict:
        out = super().vulnerability(v, st, ids)
        status = out.get("product_status", {})
        if self.vex or not status or set(status) == {"under_investigation"}:
            return out  # the VEX profile asks neither; the 2.0 writer said what is wrong
        # 6.1.27.12 and .13: a 2.1 security advisory names affected versions, and the
        # affected versions beside each fixed one, where 2.0 accepted a bare "fixed"
        if not status.get("known_affected"):
            self.problems.append(
                f"vulnerability {v.key} ({v.title}): no product is known affected (a CSAF "
                "2.1 security advisory names at least one affected product; a VEX "
                "document can say this)")
        for (vendor, product), roles in st.leaves_of.items():
            if roles["fixed"] and not roles["affected"]:
                who = " ".join(p for p in (vendor, product) if p)
                self.problems.append(
                    f"vulnerability {v.key}: {who} is fixed, but no affected version is known "
                    "(a CSAF 2.1 security advisory names the affected versions beside the "
                    "fixed ones: add them to the vulnerability's products)")
        return out

    def weaknesses(self, v: AdvisoryVulnerability, out: dict, notes: list[dict]) -> None:
        cwes = []
        for cwe_id in dict.fromkeys(v.cwes):
            entry = csaf_check.cwe_entry21(cwe_id)
            if entry is None:
                self.problems.append(f"vulnerability {v.key}: {cwe_id} is not in the CWE "
                                     "catalog")
            else:
                cwes.append(entry)
        if cwes:
            out["cwes"] = cwes

    def scores(self, v: AdvisoryVulnerability,
               products: list[str]) -> tuple[list[dict], list[dict]]:
        """One metric holding every CVSS version the vulnerability was scored in (2.1
        carries v2, v3 and v4.0 side by side); a second score of one version, or a score
        with no affected product to apply to, is kept in a note."""
        content: dict = {}
        notes: list[dict] = []
        for score in v.scores:
            obj = self.cvss(v, score) if score.version != "4.0" else self.cvss4(v, score)
            if obj is None:
                continue
            field = {"2.0": "cvss_v2", "4.0": "cvss_v4"}.get(score.version, "cvss_v3")
            if field in content or not products:
                notes.append({"category": "other", "title": f"CVSS v{score.version}",
                              "text": f"{score.vector} (base score {obj['baseScore']})"})
                continue
            content[field] = obj
        return ([{"content": content, "products": products}] if content else []), notes

    def cvss4(self, v: AdvisoryVulnerability, score: Score) -> dict | None:
        """The CVSS v4.0 object from the csaf package's own calculator (the one its
        tests check the document with); the score must agree with the one recorded."""
        try:
            obj = csaf_check.cvss40(score.vector)
        except ValueError as exc:
            self.problems.append(f"vulnerability {v.key}: CVSS vector {score.vector!r} is "
                                 f"not valid: {exc}")
            return None
        if abs(float(obj["baseScore"]) - score.base_score) > 0.05:
            self.problems.append(f"vulnerability {v.key}: CVSS base score {score.base_score} "
                                 f"does not match its vector (which gives {obj['baseScore']})")
        return obj

    def remediations(self, st: VulnStatus, ids: dict[Leaf, str]) -> list[dict]:
        items = super().remediations(st, ids)
        unaffected = {ids[leaf] for leaf in st.known_not_affected}
        for item in items:
            if not unaffected.issuperset(item["product_ids"]):
                continue
            if item["category"] == RemediationKind.VENDOR_FIX.value:
                # 6.1.36: an update for a product that is not affected is optional
                item["category"] = "optional_patch"
            else:
                names = {" ".join(p for p in (leaf.vendor, leaf.product) if p)
                         for leaf, pid in ids.items() if pid in item["product_ids"]}
                self.problems.append(
                    f"{', '.join(sorted(names))}: not affected, but given a "
                    f"{item['category'].replace('_', ' ')} remediation: CSAF 2.1 allows only "
                    "an optional patch (a vendor fix) for products that are not affected")
        remedy_of: dict[tuple[str, ...], dict] = {}
        for item in items:
            if item["category"] in _REMEDIES:
                remedy_of.setdefault(tuple(item["product_ids"]), item)
        out = []
        for item in items:
            remedy = remedy_of.get(tuple(item["product_ids"]))
            if item["category"] in _NO_FIX and remedy is not None:
                word = _REMEDY_WORDS[RemediationKind(item["category"])]
                said = item["details"]
                remedy["details"] += " " + (word if said == word else f"{word[:-1]}: {said}")
                continue
            out.append(item)
        return out


def _vuln_id(n: int) -> str:
    return f"VULN-{n:04d}"


def _words(inv: Involvement) -> str:
    words = f"{inv.party}: {inv.status.value.replace('_', ' ')}"
    return words + (f" ({inv.summary})" if inv.summary else "")


def _purls(branches: list[dict], problems: list[str]) -> None:
    """CSAF 2.1 lists package URLs (``purls``) where 2.0 had one ``purl``; and its test
    6.1.50 takes version ranges in the vers form only, where 2.0 also took free text."""
    for branch in branches:
        product = branch.get("product", {})
        helper = product.get("product_identification_helper")
        if helper and "purl" in helper:
            helper["purls"] = [helper.pop("purl")]
        if branch["category"] == RANGE and not branch["name"].startswith("vers:"):
            problems.append(
                f"{product['name']}: the affected versions '{branch['name']}' are free "
                "text, and CSAF 2.1 takes version ranges only as versions (vers): record "
                "the first affected and the fixed or last affected version")
        _purls(branch.get("branches", []), problems)
