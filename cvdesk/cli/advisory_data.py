"""Commands for what an advisory says (issue 10): vulnerability details after intake,
the affected products' versions among them (``vuln update``), and vendor statements
(``statement add``, ``statement confirm``)."""

from __future__ import annotations

import re
from typing import Any

import typer

from cvdesk.cli.cases import show_scores, vuln_app
from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, line, out
from cvdesk.domain.advisory import Remediation
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import VersionRange

statement_app = typer.Typer(help="Vendor statements: each vendor's status, remediations and "
                                 "own words per product and vulnerability.",
                            no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts.")
AT = typer.Option(None, "--at", help="When it happened (ISO 8601 with time zone); default now.")
REASON = typer.Option("", "--reason", help="Why (kept in the log).")
VULN = typer.Option(..., "--vuln", help="The vulnerability: its CVE id, or V1, V2 ... in the "
                                        "order added.")
VENDOR = typer.Option(..., "--vendor", help="The vendor participant: number (3 or p3) or name.")
PRODUCT = typer.Option(..., "--product", help="The product's name.")

# The URL at the end of a remediation: a scheme, "://", and no spaces.
_URL_AT_END = re.compile(r"(?:^|:)([A-Za-z][A-Za-z0-9+.-]*://\S*)$")


def _given(values: list[str]) -> list[str] | None:
    """A repeatable option: None when not given (leave as is); a single empty value clears."""
    if not values:
        return None
    return [v for v in values if v.strip()]


def parse_remediation(text: str) -> Remediation:
    """KIND[:TEXT[:URL]]; the text may hold colons, the URL is what ends in scheme://..."""
    kind, _, rest = text.partition(":")
    url = ""
    found = _URL_AT_END.search(rest)
    if found:
        url, rest = found.group(1), rest[:found.start()]
    return Remediation(kind.strip(), rest.strip(), url)  # type: ignore[arg-type]


_RANGE_ENDS = {"introduced": "introduced", "fixed": "fixed", "last_affected": "last_affected",
               "last-affected": "last_affected"}


def parse_range(text: str) -> VersionRange:
    """introduced=V,fixed=V (or last_affected=V), or one version alone (exactly that one);
    the report form's names for the ends of a range."""
    if "=" not in text:
        version = text.strip()
        if not version:
            raise InvalidInput("versions", "an empty version")
        return VersionRange(introduced=version, last_affected=version)
    ends: dict[str, str] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        end = _RANGE_ENDS.get(name.strip().lower())
        if end is None or not value.strip():
            raise InvalidInput("versions", f"'{part.strip()}' in '{text}' is not one of "
                               "introduced=V, fixed=V, last_affected=V")
        if end in ends:
            raise InvalidInput("versions", f"'{text}' gives {end} twice")
        ends[end] = value.strip()
    return VersionRange(**ends)


def _show_products(affected: list[dict[str, Any]]) -> None:
    for a in affected:
        ranges = "; ".join(
            r["introduced"] if r.get("introduced") and r["introduced"] == r.get("last_affected")
            else VersionRange(r.get("introduced"), r.get("fixed"),
                              r.get("last_affected")).describe()
            for r in a.get("versions", ()))
        words = a.get("version_text", "")
        versions = "; ".join(x for x in (ranges, words) if x) or "no versions given"
        vendor = f" ({a['vendor']})" if a.get("vendor") else ""
        out.print(f"  product {a['product']}{vendor}: {versions}", markup=False)


def vuln_update(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    key: str = typer.Argument(..., help="The vulnerability: its CVE id, or V1, V2 ... in the "
                                        "order added."),
    title: str | None = typer.Option(None, "--title"),
    cve: str | None = typer.Option(None, "--cve", help="The CVE id; empty to remove it."),
    cwe: list[str] = typer.Option([], "--cwe", help="CWE id; repeat for several (replaces "
                                  "the list; --cwe '' empties it)."),
    description: str | None = typer.Option(None, "--description"),
    cvss: list[str] = typer.Option([], "--cvss", help="A CVSS 3.1 or 4.0 vector; one of each "
                                   "at most; replaces the score of its version."),
    reference: list[str] = typer.Option([], "--reference", help="An http(s) URL; repeat for "
                                        "several (replaces the list; --reference '' "
                                        "empties it)."),
    product: str | None = typer.Option(None, "--product", help="An affected product, as "
                                       "listed: --versions and --version-text change its "
                                       "versions."),
    vendor: str = typer.Option("", "--vendor", help="The product's vendor, when several "
                               "vendors list a product of that name."),
    versions: list[str] = typer.Option(
        [], "--versions", help="An affected range of --product: introduced=V,fixed=V or "
        "introduced=V,last_affected=V (either end alone too), or one version alone; repeat "
        "for several (replaces the list; --versions '' empties it)."),
    version_text: str | None = typer.Option(None, "--version-text", help="Words for the "
                                            "versions of --product, e.g. 'all versions' "
                                            "('' removes them)."),
    reason: str = REASON,
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """Change a vulnerability's details: CVE, CWEs, description, CVSS, references, and the
    versions of an affected product (an advisory is not published without them)."""
    ranges = _given(versions)
    view = app_context(ctx).cases().update_vulnerability(
        case_id, key, title=title, cve=cve, cwes=_given(cwe), description=description,
        cvss=[v for v in cvss if v.strip()] or None, references=_given(reference),
        product=product, vendor=vendor,
        versions=None if ranges is None else [parse_range(r) for r in ranges],
        version_text=version_text, at=parse_time(at, "--at"), reason=reason)
    if as_json:
        emit_json(view.to_json())
        return
    out.print(f"{case_id.upper()} {view.key}: {line(view.title)}")
    show_scores(view.scores, view.references)
    _show_products(list(view.data.get("affected", ())))


@statement_app.command("add")
def statement_add(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    vendor: str = VENDOR,
    vuln: str = VULN,
    product: str = PRODUCT,
    status: str = typer.Option(..., "--status", help="affected, not_affected, fixed or "
                               "under_investigation."),
    justification: str = typer.Option("", "--justification", help="Why not affected: "
                                      "component_not_present, vulnerable_code_not_present, "
                                      "vulnerable_code_cannot_be_controlled_by_adversary, "
                                      "vulnerable_code_not_in_execute_path, "
                                      "inline_mitigations_already_exist."),
    fixed_version: str = typer.Option("", "--fixed-version", help="The first fixed version."),
    remediation: list[str] = typer.Option(
        [], "--remediation", help="KIND[:TEXT[:URL]], KIND one of vendor_fix, workaround, "
        "mitigation, none_available, no_fix_planned; repeat for several."),
    text: str = typer.Option("", "--text", help="The statement in the vendor's own words."),
    on_behalf: bool = typer.Option(False, "--on-behalf", help="Entered by the coordinator "
                                   "for the vendor; marked so until the vendor confirms."),
    reason: str = REASON,
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """Record a vendor's statement on one product and one vulnerability."""
    view = app_context(ctx).cases().record_statement(
        case_id, vendor, vuln, product, status, justification=justification or None,
        fixed_version=fixed_version, remediations=[parse_remediation(r) for r in remediation],
        statement=text, on_behalf=on_behalf, at=parse_time(at, "--at"), reason=reason)
    if as_json:
        emit_json(view.to_json())
        return
    mark = " (on the vendor's behalf, until confirmed)" if view.on_behalf else ""
    out.print(f"recorded: {view.vendor} on {view.product} ({view.vulnerability}): "
              f"{view.status}{mark}")


@statement_app.command("confirm")
def statement_confirm(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    vendor: str = VENDOR,
    vuln: str = VULN,
    product: str = PRODUCT,
    reason: str = REASON,
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """The vendor confirms a statement entered on its behalf as its own."""
    view = app_context(ctx).cases().confirm_statement(
        case_id, vendor, vuln, product, at=parse_time(at, "--at"), reason=reason)
    if as_json:
        emit_json(view.to_json())
        return
    out.print(f"confirmed: {view.vendor} on {view.product} ({view.vulnerability})")


if not any(c.name == "update" for c in vuln_app.registered_commands):
    vuln_app.command("update")(vuln_update)
