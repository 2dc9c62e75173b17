"""The case commands that keep a case's vulnerability details and vendor statements
(issue 10): what an advisory says about each vulnerability and each vendor's products.

They sit apart from cvdesk.domain.case only to keep that module readable; ``Case``
inherits them and supplies the checks and the event writer they use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from cvdesk.domain.advisory import Justification, ProductStatus, Remediation
from cvdesk.domain.checks import party_key
from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, VersionRange, check_cve, check_cwe
from cvdesk.domain.state import CaseState, ParticipantState
from cvdesk.domain.statements import MAX_TEXT, MAX_VERSION, Statement, statement_key


class DetailCommands(CaseState):
    """Vulnerability details and vendor statements; each command checks, then emits."""

    # Supplied by cvdesk.domain.case.Case:
    def _check_open(self, what: str) -> None:
        raise NotImplementedError

    def _emit(self, type_: EventType, at: datetime, actor: str, reason: str, *,
              participant: int | None = None, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def update_vulnerability(self, key: str, *, at: datetime, actor: str, reason: str = "",
                             title: str | None = None, cve: str | None = None,
                             cwes: Iterable[str] | None = None,
                             description: str | None = None, cvss_v3: str | None = None,
                             cvss_v4: str | None = None,
                             references: Iterable[str] | None = None,
                             affected: Iterable[AffectedProduct] | None = None,
                             ) -> dict[str, Any]:
        """Change a vulnerability after intake (issue 10).  None leaves a field as it is;
        an empty CVSS vector removes that version's score.  The event carries only the
        fields whose value changes, each whole, and none is written when nothing changes.
        Returns those changes."""
        from cvdesk.domain.scores import score
        from cvdesk.domain.statements import check_references

        self._check_open("update vulnerability")
        place = self.find_vulnerability(key)
        old = self.vulnerabilities[place - 1]
        given: dict[str, Any] = {}
        if title is not None:
            if not title.strip():
                raise InvalidInput("title", "must not be empty")
            given["title"] = title.strip()
        if cve is not None:
            given["cve"] = check_cve(cve.strip().upper()) if cve.strip() else ""
            if given["cve"] and any(v.cve == given["cve"] for i, v in
                                    enumerate(self.vulnerabilities, 1) if i != place):
                raise InvalidInput("cve", f"{given['cve']} is already on {self.case_id}")
        if cwes is not None:
            given["cwes"] = list(dict.fromkeys(check_cwe(c.strip().upper()) for c in cwes))
        if description is not None:
            given["description"] = description
        if cvss_v3 is not None or cvss_v4 is not None:
            by_version = {s.version: s for s in old.scores}
            for version, vector in (("3.1", cvss_v3), ("4.0", cvss_v4)):
                if vector is None:
                    continue
                if not vector.strip():
                    by_version.pop(version, None)
                    continue
                new = score(vector)
                if new.version != version:
                    raise InvalidInput("cvss", f"a CVSS {new.version} vector was given as the "
                                       f"CVSS {version} one")
                by_version[version] = new
            given["scores"] = [to_jsonable(by_version[v]) for v in sorted(by_version)]
        if references is not None:
            given["references"] = list(check_references(references))
        if affected is not None:
            given["affected"] = to_jsonable(tuple(affected))
        if not given:
            raise InvalidInput("vulnerability", "give at least one field to change")
        current = to_jsonable(old)
        changes = {k: v for k, v in given.items() if current.get(k) != v}
        if changes:
            self._emit(EventType.VULNERABILITY_UPDATED, at, actor, reason,
                       data={"vulnerability": place, "key": self.vulnerability_key(place),
                             "changes": changes})
        return changes

    def with_versions(self, key: str, product: str | None, *, vendor: str = "",
                      versions: Iterable[VersionRange] | None = None,
                      version_text: str | None = None,
                      ) -> tuple[AffectedProduct, ...] | None:
        """The affected products of vulnerability ``key`` with one product's versions
        replaced, to hand to ``update_vulnerability`` as ``affected`` (so the change is
        one ``vulnerability.updated`` event).  Versions often arrive after intake: from
        the vendor, its changelog, the fix; an advisory is not published without them
        (``cvdesk.publish.build.unversioned_products``).

        ``product`` is named as listed (trimmed, any case); ``vendor`` picks one when
        several vendors list a product of that name.  ``versions`` replaces the ranges,
        ``version_text`` the words for the versions; None leaves that part as it is.
        None when no product is named and no versions given: nothing to change."""
        if product is None or not product.strip():
            if versions is not None or version_text is not None or vendor.strip():
                raise InvalidInput("product", "name the product whose versions change")
            return None
        if versions is None and version_text is None:
            raise InvalidInput("versions", f"give the versions of '{product.strip()}' (a "
                               "range, an exact version or words for the versions)")
        affected = self.vulnerabilities[self.find_vulnerability(key) - 1].affected
        found = [i for i, a in enumerate(affected)
                 if party_key(a.product) == party_key(product)
                 and (not vendor.strip() or party_key(a.vendor) == party_key(vendor))]
        listed = ", ".join(f"'{a.product}'" + (f" of {a.vendor}" if a.vendor else "")
                           for a in affected) or "none"
        if not found:
            raise InvalidInput("product", f"{key.strip()} lists no product '{product.strip()}'"
                               + (f" of {vendor.strip()}" if vendor.strip() else "")
                               + f" (listed: {listed})")
        if len(found) > 1:
            raise InvalidInput("product", f"{key.strip()} lists '{product.strip()}' for "
                               f"several vendors ({listed}); name the vendor too")
        old = affected[found[0]]
        new = replace(old, versions=old.versions if versions is None
                      else tuple(_checked_range(r) for r in versions),
                      version_text=old.version_text if version_text is None
                      else _checked_text(version_text.strip(), "version text", MAX_TEXT))
        return (*affected[:found[0]], new, *affected[found[0] + 1:])

    def record_statement(self, vendor: int, vulnerability: str, product: str,
                         status: ProductStatus | str, *, at: datetime, actor: str,
                         justification: Justification | str | None = None,
                         fixed_version: str = "", remediations: Iterable[Remediation] = (),
                         statement: str = "", on_behalf: bool = False,
                         reason: str = "") -> Statement:
        """A vendor's status for one product and one vulnerability (issue 10), replacing
        its earlier one for the same product and vulnerability.  A product not yet listed
        as affected by the vulnerability is added to it first (its own event), so the
        advisory names every product a statement is about.  ``on_behalf``: the
        coordinator entered it for the vendor, and it stays marked so until the vendor
        confirms it."""
        from cvdesk.domain.statements import check_product, check_statement

        self._check_open("record statement")
        p = self._vendor(vendor)
        place = self.find_vulnerability(vulnerability)
        name = check_product(product)
        parts = check_statement(status, justification, fixed_version, remediations,
                                statement)
        vuln = self.vulnerabilities[place - 1]
        if not any(_same_product(a, name, p.name) for a in vuln.affected):
            self.update_vulnerability(
                f"V{place}", at=at, actor=actor, reason=f"named in a statement by {p.name}",
                affected=(*vuln.affected, AffectedProduct(product=name, vendor=p.name)))
        self._emit(EventType.STATEMENT_RECORDED, at, actor, reason, participant=p.pid,
                   data={"vendor_name": p.name, "vulnerability": place,
                         "key": self.vulnerability_key(place), "product": name, **parts,
                         "on_behalf": bool(on_behalf)})
        return self.statements[statement_key(p.pid, name, place)]

    def confirm_statement(self, vendor: int, vulnerability: str, product: str, *,
                          at: datetime, actor: str, reason: str = "") -> Statement:
        """The vendor confirms a statement entered on its behalf as its own words."""
        self._check_open("confirm statement")
        p = self._vendor(vendor)
        place = self.find_vulnerability(vulnerability)
        found = self.statements.get(statement_key(p.pid, product, place))
        if found is None:
            raise NotFound(f"{self.case_id} has no statement by {p.label} on "
                           f"'{product.strip()}' for {self.vulnerability_key(place)}")
        if not found.on_behalf:
            raise InvalidInput("statement", f"the statement by {p.name} on '{found.product}' "
                               f"for {self.vulnerability_key(place)} is already the vendor's "
                               "own; nothing to confirm")
        self._emit(EventType.STATEMENT_CONFIRMED, at, actor, reason, participant=p.pid,
                   data={"vendor_name": p.name, "vulnerability": place,
                         "key": self.vulnerability_key(place), "product": found.product})
        return self.statements[found.key]

    def _vendor(self, pid: int) -> ParticipantState:
        p = self.participant(pid)
        if not p.is_vendor:
            raise InvalidInput("vendor", f"{p.label} is not a vendor "
                               f"(roles: {', '.join(sorted(p.roles))})")
        return p


def _checked_range(r: VersionRange) -> VersionRange:
    """A range with its versions trimmed and no longer than a version may be."""
    ends = {k: _checked_text((getattr(r, k) or "").strip(), "versions", MAX_VERSION) or None
            for k in ("introduced", "fixed", "last_affected")}
    if ends["introduced"] and ends["introduced"] == ends["fixed"]:
        raise InvalidInput("versions", f"the range fixed in {ends['fixed']} is introduced in "
                           "that same version, so no version is affected")
    return VersionRange(**ends)


def _checked_text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidInput(field, f"{len(value)} characters; at most {limit:,}")
    return value


def _same_product(known: AffectedProduct, name: str, vendor: str) -> bool:
    """A listed product is the one a statement names when the names match and it names
    no other vendor."""
    return party_key(known.product) == party_key(name) and (
        not known.vendor.strip() or party_key(known.vendor) == party_key(vendor))
