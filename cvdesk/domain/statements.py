"""Vendor statements: one vendor's word on one product and one vulnerability (issue 10).

A statement is what an advisory's product status, remediations and "vendor statement"
are written from (appendix D; CSAF product_status, VEX).  The rules are the ones CSAF
and VEX readers rely on: "not affected" always says why (a VEX justification), "fixed"
names the first fixed version, and every remediation is of a known category.  A
coordinator often types a statement that a vendor gave by phone or mail (6.9); such a
statement is marked as entered on the vendor's behalf until the vendor confirms it, so
the advisory never presents the coordinator's paraphrase as the vendor's own words.

Here are the value and the checks; the commands that record them are on the case
(cvdesk.domain.case) and the folding in cvdesk.domain.state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cvdesk.domain.advisory import Justification, ProductStatus, Remediation, RemediationKind
from cvdesk.domain.checks import member, party_key
from cvdesk.domain.errors import InvalidInput

MAX_TEXT = 100_000
MAX_NAME = 200
MAX_VERSION = 100
MAX_URL = 2000
MAX_REMEDIATIONS = 20
MAX_REFERENCES = 100
_URL_RE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """A vendor statement as the case log holds it.  ``vulnerability`` is the
    vulnerability's place on the case (1 for the first added): its key ("V2" or its CVE
    id) can change when a CVE is assigned, its place cannot."""

    vendor: int  # the vendor participant
    vendor_name: str
    vulnerability: int
    product: str
    status: ProductStatus
    justification: Justification | None = None
    fixed_version: str = ""
    remediations: tuple[Remediation, ...] = ()
    statement: str = ""
    on_behalf: bool = False
    at: datetime | None = None
    confirmed_at: datetime | None = None

    @property
    def key(self) -> tuple[int, str, int]:
        """Which earlier statement a new one replaces: same vendor, product, vulnerability."""
        return statement_key(self.vendor, self.product, self.vulnerability)


def statement_key(vendor: int, product: str, vulnerability: int) -> tuple[int, str, int]:
    return vendor, party_key(product), vulnerability


def check_url(value: str, field: str) -> str:
    url = value.strip()
    if len(url) > MAX_URL:
        raise InvalidInput(field, f"{len(url)} characters is too long for a URL "
                           f"(at most {MAX_URL})")
    if not _URL_RE.fullmatch(url):
        raise InvalidInput(field, f"'{url[:80]}' is not an http or https URL")
    return url


def check_references(urls: Iterable[str]) -> tuple[str, ...]:
    """Reference URLs, each once, in the order given."""
    seen: dict[str, None] = {}
    for url in urls:
        seen.setdefault(check_url(url, "reference"), None)
    if len(seen) > MAX_REFERENCES:
        raise InvalidInput("reference", f"{len(seen)} references; at most {MAX_REFERENCES}")
    return tuple(seen)


def check_remediation(r: Remediation) -> Remediation:
    kind = member(RemediationKind, r.kind, "remediation", "remediation kind")
    text = _text(r.text, "remediation", MAX_TEXT)
    url = check_url(r.url, "remediation URL") if r.url.strip() else ""
    return Remediation(kind, text, url)


def _text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidInput(field, f"{len(value)} characters; at most {limit:,}")
    return value


def check_statement(status: ProductStatus | str, justification: Justification | str | None,
                    fixed_version: str, remediations: Iterable[Remediation],
                    statement: str) -> dict[str, Any]:
    """The parts of a statement checked against each other, as its event stores them."""
    status = member(ProductStatus, status, "status", "product status")
    just = (member(Justification, justification, "justification", "justification")
            if justification not in (None, "") else None)
    fixed = _text(fixed_version.strip(), "fixed version", MAX_VERSION)
    if status is ProductStatus.NOT_AFFECTED and just is None:
        raise InvalidInput("justification", "a product that is not affected needs a "
                           "justification; one of: " + ", ".join(j.value for j in Justification))
    if just is not None and status is not ProductStatus.NOT_AFFECTED:
        raise InvalidInput("justification", f"only a 'not_affected' status has a "
                           f"justification (the status is '{status.value}')")
    if status is ProductStatus.FIXED and not fixed:
        raise InvalidInput("fixed version", "a fixed product needs the first fixed version")
    if fixed and status is not ProductStatus.FIXED:
        raise InvalidInput("fixed version", f"only a 'fixed' status has a first fixed version "
                           f"(the status is '{status.value}')")
    checked = [check_remediation(r) for r in remediations]
    if len(checked) > MAX_REMEDIATIONS:
        raise InvalidInput("remediation", f"{len(checked)} remediations; at most "
                           f"{MAX_REMEDIATIONS}")
    return {"status": status.value, "justification": just.value if just else None,
            "fixed_version": fixed,
            "remediations": [{"kind": r.kind.value, "text": r.text, "url": r.url}
                             for r in checked],
            "statement": _text(statement, "statement", MAX_TEXT)}


def check_product(product: str) -> str:
    name = product.strip()
    if not name:
        raise InvalidInput("product", "must not be empty")
    return _text(name, "product", MAX_NAME)


def statement_from_event(d: dict[str, Any], vendor: int, at: datetime) -> Statement:
    just = d.get("justification")
    return Statement(
        vendor=vendor, vendor_name=d["vendor_name"], vulnerability=d["vulnerability"],
        product=d["product"], status=ProductStatus(d["status"]),
        justification=Justification(just) if just else None,
        fixed_version=d.get("fixed_version", ""),
        remediations=tuple(Remediation(RemediationKind(r["kind"]), r.get("text", ""),
                                       r.get("url", "")) for r in d.get("remediations", ())),
        statement=d.get("statement", ""), on_behalf=bool(d.get("on_behalf")), at=at)
