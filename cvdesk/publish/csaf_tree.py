"""The CSAF product tree and each vulnerability's product status, from one advisory.

CSAF names products by id, and every status, score and remediation points at ids, so the
tree and the statuses are built together here.  Each product (vendor, product name)
gets one leaf per version range it is affected in ("vers:" strings), one per fixed
version, and one "all versions" leaf when nothing narrower is known.  Leaves are numbered
in tree order, so the same advisory always yields the same ids (CSAFPID-0001, ...), and
a reader can diff two revisions of a document.

Whose word counts (guide 6.9: the vendor states the status of its own products): a
vendor statement decides the status of that product; without one, a product listed as
affected in the vulnerability is "known affected" with its fixed versions (if any) fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from packageurl import PackageURL

from cvdesk.domain.advisory import Advisory, AdvisoryVulnerability, ProductStatus, VendorStatement
from cvdesk.domain.model import AffectedProduct, VersionRange

RANGE = "product_version_range"
VERSION = "product_version"
ALL_WORDS = {"", "all", "*", "any", "all versions"}


@dataclass(frozen=True, slots=True)
class Leaf:
    vendor: str
    product: str
    kind: str  # RANGE or VERSION
    name: str  # the vers: string, free text range, or the version


@dataclass(slots=True)
class _Product:
    purl: str = ""
    cpe: str = ""
    leaves: dict[Leaf, str] = field(default_factory=dict)  # leaf -> human name


@dataclass(slots=True)
class VulnStatus:
    """One vulnerability's statuses as leaves, before ids are known."""

    known_affected: list[Leaf] = field(default_factory=list)
    fixed: list[Leaf] = field(default_factory=list)
    known_not_affected: list[Leaf] = field(default_factory=list)
    under_investigation: list[Leaf] = field(default_factory=list)
    # the statement that decided each (vendor, product), in first-seen order
    decided_by: dict[tuple[str, str], VendorStatement | None] = field(default_factory=dict)
    # leaves of each (vendor, product) by role: "affected", "fixed", "status"
    leaves_of: dict[tuple[str, str], dict[str, list[Leaf]]] = field(default_factory=dict)


def _vers_scheme(purl: str) -> str:
    if purl:
        try:
            return PackageURL.from_string(purl).type or "generic"
        except ValueError:
            return "generic"
    return "generic"


def _vers_part(version: str) -> str:
    # vers (the package-url "vers" spec) percent-encodes what would break its syntax
    return quote(version, safe=".-_~+!:*")


def vers(scheme: str, r: VersionRange) -> str:
    """A VersionRange as a vers string (CSAF 2.0 product_version_range recommends vers)."""
    parts = []
    if r.introduced and r.introduced != "0":
        parts.append(">=" + _vers_part(r.introduced))
    if r.fixed:
        parts.append("<" + _vers_part(r.fixed))
    elif r.last_affected:
        parts.append("<=" + _vers_part(r.last_affected))
    return f"vers:{scheme}/" + ("|".join(parts) if parts else "*")


def _statement_key(s: VendorStatement) -> tuple[int, str]:
    return (0, "") if s.at is None else (1, s.at.isoformat())


class TreeBuilder:
    """Collects the leaves the statuses need, then numbers them in tree order."""

    def __init__(self) -> None:
        self._vendors: dict[str, dict[str, _Product]] = {}

    def product(self, vendor: str, name: str, ap: AffectedProduct | None = None) -> _Product:
        prod = self._vendors.setdefault(vendor, {}).setdefault(name, _Product())
        if ap is not None:
            prod.purl = prod.purl or ap.purl
            prod.cpe = prod.cpe or ap.cpe
        return prod

    def leaf(self, vendor: str, product: str, kind: str, name: str, label: str) -> Leaf:
        leaf = Leaf(vendor, product, kind, name)
        self.product(vendor, product).leaves.setdefault(leaf, label)
        return leaf

    def range_leaves(self, vendor: str, product: str,
                     aps: Iterable[AffectedProduct]) -> tuple[list[Leaf], list[Leaf]]:
        """The affected leaves of a product, and the fixed versions its ranges name."""
        affected: list[Leaf] = []
        fixed: list[Leaf] = []
        texts: list[str] = []
        for ap in aps:
            prod = self.product(vendor, product, ap)
            scheme = _vers_scheme(prod.purl)
            for r in ap.versions:
                affected.append(self.leaf(vendor, product, RANGE, vers(scheme, r),
                                          r.describe() or "all versions"))
                if r.fixed:
                    fixed.append(self.version_leaf(vendor, product, r.fixed))
            if not ap.versions:
                texts.append(ap.version_text.strip())
        for text in texts:
            if text.lower() in ALL_WORDS:
                affected.append(self.all_leaf(vendor, product))
            else:  # free text the vendor used: a "vls" string, kept as written
                affected.append(self.leaf(vendor, product, RANGE, text, text))
        return _unique(affected), _unique(fixed)

    def all_leaf(self, vendor: str, product: str) -> Leaf:
        scheme = _vers_scheme(self.product(vendor, product).purl)
        return self.leaf(vendor, product, RANGE, f"vers:{scheme}/*", "all versions")

    def version_leaf(self, vendor: str, product: str, version: str) -> Leaf:
        return self.leaf(vendor, product, VERSION, version, version)

    def number(self) -> tuple[dict[Leaf, str], list[dict]]:
        """Ids in tree order, and the CSAF branches."""
        ids: dict[Leaf, str] = {}
        branches: list[dict] = []
        for vendor, products in self._vendors.items():
            product_branches = []
            for name, prod in products.items():
                leaves = []
                for leaf, label in prod.leaves.items():
                    pid = f"CSAFPID-{len(ids) + 1:04d}"
                    ids[leaf] = pid
                    full = {"name": " ".join(p for p in (vendor, name, label) if p),
                            "product_id": pid}
                    helper = _helper(prod, leaf)
                    if helper:
                        full["product_identification_helper"] = helper
                    leaves.append({"category": leaf.kind, "name": leaf.name, "product": full})
                if leaves:
                    product_branches.append({"category": "product_name", "name": name,
                                             "branches": leaves})
            if not product_branches:
                continue
            if vendor:
                branches.append({"category": "vendor", "name": vendor,
                                 "branches": product_branches})
            else:  # a product named without its vendor stands at the top of the tree
                branches.extend(product_branches)
        return ids, branches


def _helper(prod: _Product, leaf: Leaf) -> dict:
    helper: dict = {}
    if prod.cpe:
        helper["cpe"] = prod.cpe
    if prod.purl:
        purl = prod.purl
        if leaf.kind == VERSION:
            try:
                p = PackageURL.from_string(prod.purl)
                purl = PackageURL(p.type, p.namespace, p.name, leaf.name, p.qualifiers,
                                  p.subpath).to_string()
            except ValueError:
                purl = prod.purl
        helper["purl"] = purl
    return helper


def _unique(leaves: list[Leaf]) -> list[Leaf]:
    return list(dict.fromkeys(leaves))


def _decisive(statements: Iterable[VendorStatement]) -> dict[tuple[str, str], VendorStatement]:
    """The latest statement per product (a later word replaces an earlier one)."""
    out: dict[tuple[str, str], VendorStatement] = {}
    for s in sorted(statements, key=_statement_key):
        out[(s.vendor, s.product)] = s
    return out


def vuln_status(tree: TreeBuilder, adv: Advisory, v: AdvisoryVulnerability) -> VulnStatus:
    st = VulnStatus()
    listed: dict[tuple[str, str], list[AffectedProduct]] = {}
    for ap in v.products:
        listed.setdefault((ap.vendor, ap.product), []).append(ap)
    decided = _decisive(adv.statements_for(v.key))
    keys = list(dict.fromkeys([*listed, *decided]))
    for key in keys:
        vendor, product = key
        affected, fixed = tree.range_leaves(vendor, product, listed.get(key, ()))
        s = decided.get(key)
        st.decided_by[key] = s
        status = s.status if s else ProductStatus.AFFECTED
        roles: dict[str, list[Leaf]] = {"affected": [], "fixed": [], "status": []}
        if status in (ProductStatus.AFFECTED, ProductStatus.FIXED):
            if s and s.fixed_version:
                fixed = _unique([tree.version_leaf(vendor, product, s.fixed_version), *fixed])
            if status is ProductStatus.FIXED and not fixed and not affected:
                fixed = [tree.all_leaf(vendor, product)]
            if not affected and status is ProductStatus.AFFECTED:
                affected = [tree.all_leaf(vendor, product)]
            roles["affected"], roles["fixed"] = affected, fixed
            st.known_affected += affected
            st.fixed += fixed
        else:
            leaves = affected or [tree.all_leaf(vendor, product)]
            roles["status"] = leaves
            target = (st.known_not_affected if status is ProductStatus.NOT_AFFECTED
                      else st.under_investigation)
            target += leaves
        st.leaves_of[key] = roles
    st.known_affected = _unique(st.known_affected)
    st.fixed = _unique(st.fixed)
    st.known_not_affected = _unique(st.known_not_affected)
    st.under_investigation = _unique(st.under_investigation)
    return st
