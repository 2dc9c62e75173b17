"""Hypothesis strategies for advisories: hostile text everywhere a person typed something,
and the shapes the domain allows (ranges, purls, statements, scores, dates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from cvdesk.domain.advisory import (
    Acknowledgment,
    Advisory,
    AdvisoryStatus,
    AdvisoryVulnerability,
    CreditType,
    Justification,
    ProductStatus,
    Publisher,
    Remediation,
    RemediationKind,
    Revision,
    Score,
    TimelineEntry,
    VendorStatement,
)
from cvdesk.domain.model import TLP, AffectedProduct, VersionRange

#: markup that must stay text in every output
HOSTILE = ["<script>alert(1)</script>", "# heading", "- item", "1. item", "**bold**",
           "[x](javascript:alert(1))", "`code`", "| a | b |", "---", "> quote",
           "&lt;b&gt;", "<img src=x onerror=alert(1)>", "\\", "===", "    indented"]

texts = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
            max_size=40),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("\n".join),
)
names = texts.filter(lambda s: s.strip())
versions = st.one_of(st.from_regex(r"v?[0-9]{1,2}(\.[0-9]{1,2}){0,2}", fullmatch=True),
                     st.just("a" * 40), st.sampled_from(["1.0.0-rc.1", "2024.1", "7.4.2"]))


@st.composite
def version_ranges(draw) -> VersionRange:
    introduced = draw(st.none() | versions)
    upper = draw(st.sampled_from(["fixed", "last_affected", None]))
    value = draw(versions)
    if upper is None and introduced is None:
        return VersionRange(introduced=value)
    return VersionRange(introduced=introduced, **({upper: value} if upper else {}))


PURLS = ["", "pkg:pypi/libquill", "pkg:npm/%40scope/thing", "pkg:maven/org.example/lib",
         "pkg:golang/github.com/acme/mod", "pkg:deb/debian/curl", "pkg:generic/firmware",
         "pkg:github/acme/thing", "pkg:cargo/quill", "not a purl"]
products = st.builds(AffectedProduct, product=names, vendor=st.sampled_from(
    ["Acme Networks", "Gadget Corp", "", "<b>Evil</b> & Co"]) | names,
    versions=st.lists(version_ranges(), max_size=2).map(tuple),
    version_text=st.sampled_from(["", "all", "before 3.2"]), purl=st.sampled_from(PURLS))
SCORES = [Score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"),
          Score("3.1", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:C/C:N/I:N/A:N", 0.0, "NONE"),
          Score("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3, "CRITICAL"),
          Score("4.0", "CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:A/VC:N/VI:L/VA:N/SC:H/SI:N/SA:N",
                1.0, "LOW")]
URLS = ["https://acme.example/security/ASA-1", "https://csirt.example/a?b=1&c=<2>",
        "http://example.org/x", "https://example.net/fix"]
moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31),
                       timezones=st.sampled_from(
                           [UTC, timezone(timedelta(hours=5, minutes=30)),
                            timezone(timedelta(hours=-8))]))


@st.composite
def advisories(draw, with_cve: bool = False) -> Advisory:
    count = draw(st.integers(1, 3))
    vulns = []
    for i in range(count):
        cve = (f"CVE-2026-{10000 + i}" if with_cve and i == 0
               else draw(st.sampled_from(["", f"CVE-2025-{2000 + i}"])))
        vulns.append(AdvisoryVulnerability(
            key=cve or f"V{i + 1}", title=draw(texts), cve=cve,
            cwes=tuple(draw(st.lists(st.from_regex(r"CWE-[1-9][0-9]{0,3}", fullmatch=True),
                                     max_size=2))),
            description=draw(texts), scores=tuple(draw(st.lists(st.sampled_from(SCORES),
                                                                 max_size=2))),
            references=tuple(draw(st.lists(st.sampled_from(URLS), max_size=2))),
            products=tuple(draw(st.lists(products, max_size=3)))))
    statements = []
    for v in vulns:
        for p in v.products:
            if not draw(st.booleans()):
                continue
            status = draw(st.sampled_from(list(ProductStatus)))
            statements.append(VendorStatement(
                vendor=p.vendor or draw(names), product=p.product, vulnerability=v.key,
                status=status,
                justification=(draw(st.sampled_from(list(Justification)))
                               if status == ProductStatus.NOT_AFFECTED else None),
                fixed_version=draw(versions) if status == ProductStatus.FIXED else "",
                remediations=tuple(draw(st.lists(st.builds(
                    Remediation, kind=st.sampled_from(list(RemediationKind)), text=texts,
                    url=st.sampled_from(["", *URLS])), max_size=2))),
                statement=draw(texts), on_behalf=draw(st.booleans()),
                at=draw(st.none() | moments)))
    release = draw(moments)
    return Advisory(
        case_id="CVD-2026-0099", tracking_id="CVD-2026-0099", title=draw(texts),
        tlp=draw(st.sampled_from(list(TLP))), status=draw(st.sampled_from(list(AdvisoryStatus))),
        publisher=Publisher(name=draw(names), namespace="https://csirt.example",
                            contact_details=draw(texts)),
        summary=draw(texts), vulnerabilities=tuple(vulns), statements=tuple(statements),
        acknowledgments=tuple(draw(st.lists(st.builds(
            Acknowledgment, name=names, organization=texts, contribution=texts,
            credit_type=st.sampled_from(list(CreditType))), max_size=3))),
        involvements=(),
        timeline=tuple(draw(st.lists(st.builds(TimelineEntry, at=moments, label=texts),
                                     max_size=4))),
        revisions=(Revision("1", release, draw(texts)),),
        references=tuple(draw(st.lists(st.sampled_from(URLS), max_size=2))),
        initial_release=release, current_release=draw(st.none() | moments))
