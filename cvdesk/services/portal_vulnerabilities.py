"""The coordinator's vulnerability forms on the web desk (issue 11): record a vulnerability
after intake, and give an affected product's versions.

A report sent through the public form often names no vulnerability, or names one with
no product or version; an advisory is not published without the affected versions
(``cvdesk.publish.build.unversioned_products``; appendix D of the guide lists affected
and fixed versions per vendor).  The command line has ``vuln add`` and ``vuln update``;
these are the same case-service calls for a signed-in coordinator, with the web desk's
checks (``PortalActions``: write access, staff only, the case version the form was read
at, the principal as actor, an audit entry).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from cvdesk.domain.checks import party_key
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import AffectedProduct, VersionRange, Vulnerability
from cvdesk.domain.statements import MAX_VERSION
from cvdesk.services.portal_actions import Done, PortalActions

if TYPE_CHECKING:
    from cvdesk.domain.accounts import Principal

#: Longest title, CWE list and description a form may give (the report form's sizes).
MAX_TITLE = 500
MAX_DESCRIPTION = 100_000


def version_range(introduced: str = "", fixed: str = "", last_affected: str = "",
                  ) -> VersionRange | None:
    """One affected range from the form's three ends; None when all are empty.  An end
    alone is a range too: introduced only is "from this version on", last_affected
    alone "up to and including"; introduced equal to last_affected is one version."""
    ends = {}
    for name, value in (("introduced", introduced), ("fixed", fixed),
                        ("last_affected", last_affected)):
        value = (value or "").strip()
        if len(value) > MAX_VERSION:
            raise InvalidInput("versions", f"{name}: {len(value)} characters; at most "
                               f"{MAX_VERSION}")
        ends[name] = value or None
    if not any(ends.values()):
        return None
    if ends["introduced"] and ends["introduced"] == ends["fixed"]:
        raise InvalidInput("versions", f"fixed in {ends['fixed']} and introduced in that "
                           "same version: no version is affected")
    return VersionRange(**ends)  # refuses fixed and last_affected together


class VulnerabilityActions(PortalActions):
    def add_vulnerability(self, principal: Principal, case_id: str, version: int | None,
                          title: str, *, cve: str = "", cwes: str = "",
                          description: str = "", product: str = "", vendor: str = "",
                          introduced: str = "", fixed: str = "", last_affected: str = "",
                          version_text: str = "", reason: str = "",
                          address: str = "") -> Done:
        """A vulnerability with, optionally, its first affected product and its versions
        (one range: see ``version_range``, and/or words)."""
        case_id, _ = self._allow(principal, case_id, "add vulnerability", staff=True)
        versions = version_range(introduced, fixed, last_affected)
        title = (title or "").strip()
        if not title:
            raise InvalidInput("title", "must not be empty")
        if len(title) > MAX_TITLE:
            raise InvalidInput("title", f"{len(title)} characters; at most {MAX_TITLE}")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters")
        product, vendor, version_text = product.strip(), vendor.strip(), version_text.strip()
        if not product and (vendor or versions is not None or version_text):
            raise InvalidInput("product", "name the product these versions are of")
        affected = (AffectedProduct(product, vendor, (versions,) if versions else (),
                                    _checked(version_text)),) if product else ()
        vuln = Vulnerability(title=title, cve=cve.strip().upper(),
                             cwes=tuple(dict.fromkeys(c.strip().upper() for c in
                                                      cwes.replace(",", " ").split())),
                             affected=affected, description=description.strip())
        acting = self._acting(principal, version)
        acting.add_vulnerability(case_id, vuln, reason=reason)
        return self._done(principal, acting, case_id, "add vulnerability",
                          f"added {vuln.cve or 'a vulnerability'}: {title}",
                          target=vuln.cve or title[:80], address=address)

    def product_versions(self, principal: Principal, case_id: str, version: int | None,
                         key: str, product: str, *, vendor: str = "",
                         introduced: str = "", fixed: str = "", last_affected: str = "",
                         version_text: str = "", title: str = "", reason: str = "",
                         address: str = "") -> Done:
        """The versions of one affected product of vulnerability ``key`` (its CVE id or
        V1, V2 ...): replaces the product's ranges with the one range given (see
        ``version_range``) and its words with ``version_text``; a product the
        vulnerability does not list yet is added.  A non-empty ``title`` renames the
        vulnerability in the same event."""
        case_id, _ = self._allow(principal, case_id, "product versions", staff=True)
        versions = version_range(introduced, fixed, last_affected)
        product, vendor, version_text = product.strip(), vendor.strip(), version_text.strip()
        if not product:
            raise InvalidInput("product", "must not be empty")
        if versions is None and not version_text:
            raise InvalidInput("versions", f"give the versions of '{product}' (a range, "
                               "one version, or words for the versions)")
        title = (title or "").strip()
        if len(title) > MAX_TITLE:
            raise InvalidInput("title", f"{len(title)} characters; at most {MAX_TITLE}")
        acting = self._acting(principal, version)
        with acting.case(case_id) as case:
            place = case.find_vulnerability(key or "")
            listed = case.vulnerabilities[place - 1].affected
            found = [i for i, a in enumerate(listed) if party_key(a.product) == party_key(
                product) and (not vendor or party_key(a.vendor) == party_key(vendor))]
            if len(found) > 1:
                raise InvalidInput("product", f"'{product}' is listed for several vendors; "
                                   "name the vendor too")
            ranges = (versions,) if versions else ()
            if found:
                new = replace(listed[found[0]], versions=ranges,
                              version_text=_checked(version_text))
                affected = (*listed[:found[0]], new, *listed[found[0] + 1:])
            else:
                affected = (*listed, AffectedProduct(product, vendor, ranges,
                                                     _checked(version_text)))
            case.update_vulnerability(case.vulnerability_key(place), at=acting.when(None),
                                      actor=principal.actor, reason=reason,
                                      title=title or None, affected=affected)
            vkey = case.vulnerability_key(place)
        return self._done(principal, acting, case_id, "product versions",
                          f"{vkey}: versions of {product} recorded",
                          target=f"{vkey} {product}"[:200], address=address)


def _checked(version_text: str) -> str:
    if len(version_text) > MAX_VERSION * 10:
        raise InvalidInput("version text", f"{len(version_text)} characters; at most "
                           f"{MAX_VERSION * 10}")
    return version_text
