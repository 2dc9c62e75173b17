"""The report form (guide appendix C) as JSON or YAML, read field by field.

Reports come from people in a hurry, so the reader takes the spellings people
naturally write and answers every other mistake with one short line that names
the field by its path in the file (``products[1].versions[0]``) and says what to
write instead.  Nothing is stored unless the whole form reads cleanly.

What it takes: a single entry without list brackets (``vendors: Contoso``); text
for a product, reporter or vulnerability (its name or title); numbers where text
is expected, kept as written (``1.10`` stays 1.10); a version as plain text,
meaning exactly that version; TLP labels in any case with or without ``TLP:``
(``amber strict``, ``TLP: amber+strict``, and TLP 1.0's WHITE for CLEAR);
``cwe-79`` or ``79`` for CWE-79.  What it refuses: yes/no/on/off or quoted
"true" as booleans, dates without a time zone, version ranges or wildcards
written as one version, unknown or repeated field names (with the nearest real
name), and anything beyond the limits below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from cvdesk.domain.errors import BadInput, InvalidInput
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    Report,
    ReporterInfo,
    VersionRange,
    Vulnerability,
)
from cvdesk.intake import values
from cvdesk.intake.decode import (
    MAX_DEPTH,
    MAX_FORM_BYTES,
    DecodeError,
    load_json,
    load_yaml,
    to_text,
)
from cvdesk.intake.fields import Path as KeyPath
from cvdesk.intake.fields import Problems, describe, fields, flag, items, text

__all__ = ["LIMITS", "MAX_FORM_BYTES", "FormError", "load_report_bytes", "load_report_file",
           "parse_report"]

#: Limits of one form (documented in the README); each is a problem when passed.
LIMITS = {
    "file bytes": MAX_FORM_BYTES, "nesting depth": MAX_DEPTH,
    "products per report": 500, "vendors per form": 500, "vulnerabilities per report": 100,
    "products per vulnerability": 500, "versions per product": 200,
    "CWEs per vulnerability": 20, "other list entries": 100,
    "title": 300, "name": 200, "version": 100, "long text": 100_000,
}
_TITLE, _NAME, _VERSION, _LONG = (LIMITS[k] for k in ("title", "name", "version", "long text"))
_URL, _EMAIL, _PHONE, _SHORT = 2000, 254, 50, 1000


class FormError(BadInput):
    """A report form with problems; ``problems`` is a list of (field path, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {f}: {m}" for f, m in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the report form\n{lines}")


# ---------------------------------------------------------------- the parts of a form
_RANGE_KEYS = ("introduced", "fixed", "last_affected", "version")
_RANGE_SYNONYMS = {"from": "introduced", "since": "introduced", "start": "introduced",
                   "first_affected": "introduced", "min": "introduced", "fixed_in": "fixed",
                   "patched": "fixed", "fixed_version": "fixed", "to": "last_affected",
                   "until": "last_affected", "up_to": "last_affected", "through": "last_affected",
                   "last": "last_affected", "max": "last_affected"}


def _versions(problems: Problems, value: Any, path: KeyPath) -> list[VersionRange]:
    out: list[VersionRange] = []
    for at, entry in items(problems, value, path, LIMITS["versions per product"], "versions"):
        if not isinstance(entry, dict):  # plain text: exactly this version
            exact = text(problems, entry, at, _VERSION, required=True, check=values.version)
            if exact:
                out.append(VersionRange(introduced=exact, last_affected=exact))
            continue
        before = problems.count
        got = fields(problems, entry, at, _RANGE_KEYS, what="a version range",
                     synonyms=_RANGE_SYNONYMS)
        if got is None:
            continue
        ends = {k: text(problems, got.get(k), (*at, k), _VERSION, check=values.version)
                for k in _RANGE_KEYS}
        if ends["version"]:
            if any(ends[k] for k in _RANGE_KEYS[:3]):
                problems.add(at, "give either 'version' or a range (introduced, fixed, "
                             "last_affected), not both")
            else:
                out.append(VersionRange(introduced=ends["version"],
                                        last_affected=ends["version"]))
        elif ends["fixed"] and ends["last_affected"]:
            problems.add(at, "give either 'fixed' or 'last_affected', not both")
        elif not (ends["introduced"] or ends["fixed"] or ends["last_affected"]):
            if problems.count == before:
                problems.add(at, "a range needs introduced, fixed or last_affected")
        elif ends["introduced"] and ends["introduced"] == ends["fixed"]:
            problems.add((*at, "fixed"), "is the same as introduced, so no version is affected")
        else:
            out.append(VersionRange(ends["introduced"] or None, ends["fixed"] or None,
                                    ends["last_affected"] or None))
    return out


_T = TypeVar("_T")


def _build(problems: Problems, at: KeyPath, kind: type[_T], before: int, **values: Any
           ) -> _T | None:
    """The domain value, if reading its fields found no problem.  The checks above cover
    the domain's own; should one still refuse, its words are kept with this path."""
    if problems.count != before:
        return None
    try:
        return kind(**values)
    except InvalidInput as exc:
        problems.add(at, f"{exc.field}: {exc.problem}")
        return None


_PRODUCT_KEYS = ("product", "vendor", "versions", "version_text", "purl", "cpe")
_PRODUCT_SYNONYMS = {"name": "product", "product_name": "product", "version": "versions",
                     "affected_versions": "versions", "vendor_name": "vendor",
                     "package_url": "purl", "cpe23": "cpe", "cpe_name": "cpe",
                     "versions_text": "version_text", "version_description": "version_text"}


def _products(problems: Problems, value: Any, path: KeyPath, limit: int
              ) -> list[AffectedProduct]:
    out: list[AffectedProduct] = []
    for at, entry in items(problems, value, path, limit, "products"):
        before = problems.count
        if isinstance(entry, list):
            problems.add(at, "expected a product (its name, or field: value pairs), found a "
                         "list")
            continue
        if not isinstance(entry, dict):  # text: the product's name
            name = text(problems, entry, at, _NAME, required=True)
            product = _build(problems, at, AffectedProduct, before, product=name)
        elif (got := fields(problems, entry, at, _PRODUCT_KEYS, what="a product",
                            synonyms=_PRODUCT_SYNONYMS)) is None:
            continue
        else:
            product = _build(
                problems, at, AffectedProduct, before,
                product=text(problems, got.get("product"), (*at, "product"), _NAME,
                             required=True),
                vendor=text(problems, got.get("vendor"), (*at, "vendor"), _NAME),
                versions=tuple(_versions(problems, got.get("versions"), (*at, "versions"))),
                version_text=text(problems, got.get("version_text"), (*at, "version_text"),
                                  _LONG),
                purl=text(problems, got.get("purl"), (*at, "purl"), _URL, check=values.purl),
                cpe=text(problems, got.get("cpe"), (*at, "cpe"), _URL, check=values.cpe))
        if product is not None:
            out.append(product)
    return out


_REPORTER_KEYS = ("name", "organization", "email", "pgp_key", "phone")
_REPORTER_SYNONYMS = {"org": "organization", "organisation": "organization",
                      "company": "organization", "affiliation": "organization",
                      "employer": "organization", "mail": "email", "e_mail": "email",
                      "email_address": "email", "pgp": "pgp_key", "gpg": "pgp_key",
                      "gpg_key": "pgp_key", "openpgp": "pgp_key", "public_key": "pgp_key",
                      "key": "pgp_key", "telephone": "phone", "tel": "phone",
                      "mobile": "phone", "phone_number": "phone", "full_name": "name"}


def _reporter(problems: Problems, value: Any, path: KeyPath) -> ReporterInfo | None:
    before = problems.count
    if value is None:
        problems.add(path, "required field is missing")
        return None
    if isinstance(value, list):
        problems.add(path, "expected the reporter as field: value pairs (name, email, ...), "
                     "found a list")
        return None
    if not isinstance(value, dict):  # text: the reporter's name
        name = text(problems, value, path, _NAME, required=True)
        return _build(problems, path, ReporterInfo, before, name=name)
    got = fields(problems, value, path, _REPORTER_KEYS, what="the reporter",
                 synonyms=_REPORTER_SYNONYMS)
    if got is None:
        return None
    return _build(
        problems, path, ReporterInfo, before,
        name=text(problems, got.get("name"), (*path, "name"), _NAME, required=True),
        organization=text(problems, got.get("organization"), (*path, "organization"), _NAME),
        email=text(problems, got.get("email"), (*path, "email"), _EMAIL, check=values.email),
        pgp_key=text(problems, got.get("pgp_key"), (*path, "pgp_key"), _LONG),
        phone=text(problems, got.get("phone"), (*path, "phone"), _PHONE))


_VULN_KEYS = ("title", "cve", "cwes", "affected", "description")
_VULN_SYNONYMS = {"name": "title", "summary": "title", "cve_id": "cve", "cve_ids": "cve",
                  "cwe": "cwes", "cwe_id": "cwes", "cwe_ids": "cwes", "products": "affected",
                  "product": "affected", "affected_products": "affected",
                  "details": "description"}


def _vulnerabilities(problems: Problems, value: Any, path: KeyPath) -> list[Vulnerability]:
    out: list[Vulnerability] = []
    for at, entry in items(problems, value, path, LIMITS["vulnerabilities per report"],
                           "vulnerabilities"):
        before = problems.count
        if isinstance(entry, list):
            problems.add(at, "expected a vulnerability (its title, or field: value pairs), "
                         "found a list")
            continue
        if not isinstance(entry, dict):  # text: the vulnerability's title
            title = text(problems, entry, at, _TITLE, required=True)
            vuln = _build(problems, at, Vulnerability, before, title=title)
        elif (got := fields(problems, entry, at, _VULN_KEYS, what="a vulnerability",
                            synonyms=_VULN_SYNONYMS)) is None:
            continue
        else:
            vuln = _build(
                problems, at, Vulnerability, before,
                title=text(problems, got.get("title"), (*at, "title"), _TITLE, required=True),
                cve=text(problems, got.get("cve"), (*at, "cve"), 40, check=values.cve),
                cwes=tuple(dict.fromkeys(
                    text(problems, c, p, 20, required=True, check=values.cwe) for p, c in
                    items(problems, got.get("cwes"), (*at, "cwes"),
                          LIMITS["CWEs per vulnerability"], "CWEs"))),
                affected=tuple(_products(problems, got.get("affected"), (*at, "affected"),
                                         LIMITS["products per vulnerability"])),
                description=text(problems, got.get("description"), (*at, "description"),
                                 _LONG))
        if vuln is not None:
            out.append(vuln)
    return out


def _texts(problems: Problems, value: Any, path: KeyPath, max_len: int, limit: int,
           what: str, check: Any = None) -> tuple[str, ...]:
    return tuple(text(problems, v, p, max_len, required=True, check=check)
                 for p, v in items(problems, value, path, limit, what))


# ---------------------------------------------------------------- the form
_FORM_KEYS = (
    "title", "description", "reporter", "tlp", "products", "vendors", "exploit", "impact",
    "how_found", "when_found", "reported_to", "public", "public_urls", "exploited",
    "exploitation_evidence", "disclosure_plans", "disclosure_date", "share_contact",
    "wants_credit", "credit_as", "tracking_ids", "vulnerabilities")
_FORM_SYNONYMS = {
    "summary": "title", "subject": "title", "desc": "description", "details": "description",
    "product": "products", "affected": "products", "affected_products": "products",
    "vendor": "vendors", "contact": "reporter", "reported_by": "reporter",
    "name": "reporter.name", "reporter_name": "reporter.name", "email": "reporter.email",
    "reporter_email": "reporter.email", "cve": "vulnerabilities[].cve",
    "cwe": "vulnerabilities[].cwes", "cwes": "vulnerabilities[].cwes",
    "vulnerability": "vulnerabilities", "traffic_light_protocol": "tlp",
    "poc": "exploit", "proof_of_concept": "exploit", "found": "when_found",
    "date_found": "when_found", "discovered": "when_found", "discovery": "how_found",
    "publication_date": "disclosure_date", "publish_date": "disclosure_date",
    "embargo_end": "disclosure_date", "is_public": "public", "references": "public_urls",
    "urls": "public_urls", "in_the_wild": "exploited", "credit": "wants_credit",
    "credit_name": "credit_as", "tracking_id": "tracking_ids", "ids": "tracking_ids",
    "notified": "reported_to", "told": "reported_to"}


def _read(problems: Problems, data: Any) -> Report | None:
    if data is None:
        problems.add((), "the form is empty (only comments or null)")
        return None
    if not isinstance(data, dict):
        problems.add((), "the form must be a mapping of field names to values (title: ..., "
                     f"description: ...), not {describe(data)}")
        return None
    got = fields(problems, data, (), _FORM_KEYS, what="the form", synonyms=_FORM_SYNONYMS)
    assert got is not None

    def txt(key: str, max_len: int, **kw: Any) -> str:
        return text(problems, got.get(key), (key,), max_len, **kw)

    def yes(key: str) -> bool | None:
        return flag(problems, got.get(key), (key,))

    form: dict[str, Any] = {
        "title": txt("title", _TITLE, required=True),
        "description": txt("description", _LONG, required=True),
        "reporter": _reporter(problems, got.get("reporter"), ("reporter",)),
        "tlp": TLP(txt("tlp", 40, check=values.tlp) or TLP.AMBER),
        "products": tuple(_products(problems, got.get("products"), ("products",),
                                    LIMITS["products per report"])),
        "vendors": _texts(problems, got.get("vendors"), ("vendors",), _NAME,
                          LIMITS["vendors per form"], "vendors"),
        "reported_to": _texts(problems, got.get("reported_to"), ("reported_to",), _NAME,
                              LIMITS["other list entries"], "entries"),
        "public_urls": _texts(problems, got.get("public_urls"), ("public_urls",), _URL,
                              LIMITS["other list entries"], "addresses", values.url),
        "tracking_ids": _texts(problems, got.get("tracking_ids"), ("tracking_ids",), _NAME,
                               LIMITS["other list entries"], "ids"),
        "disclosure_date": values.when(problems, got.get("disclosure_date"), ("disclosure_date",)),
        "vulnerabilities": tuple(_vulnerabilities(problems, got.get("vulnerabilities"),
                                                  ("vulnerabilities",))),
        "credit_as": txt("credit_as", _NAME),
        "when_found": txt("when_found", _SHORT),
    }
    for key in ("exploit", "impact", "how_found", "exploitation_evidence", "disclosure_plans"):
        form[key] = txt(key, _LONG)
    for key in ("share_contact", "wants_credit"):
        form[key] = bool(yes(key))
    # Evidence implies the claim: public_urls without 'public' means public; an explicit
    # 'public: false' next to them is a contradiction the reporter has to settle.
    for claim, evidence in (("public", "public_urls"), ("exploited", "exploitation_evidence")):
        stated = yes(claim)
        if stated is False and form[evidence]:
            problems.add((evidence,), f"given, but {claim} is false")
        form[claim] = bool(stated) or (stated is None and bool(form[evidence]))
    if problems or form["reporter"] is None:
        return None
    return _build(problems, (), Report, 0, **form)


def parse_report(data: Any, source: str = "report") -> Report:
    """Read a decoded form (field names to values) into the domain Report, or raise
    FormError listing every problem with its field path."""
    problems = Problems()
    try:
        report = _read(problems, data)
    except RecursionError:  # a caller's own tree, deeper than any form
        raise FormError(source, [("(file)", "nested too deeply")]) from None
    if report is None or problems:
        raise FormError(source, problems.listing(data))
    return report


def load_report_bytes(raw: bytes, fmt: str, source: str = "report") -> Report:
    """Read a form from the bytes of a file; ``fmt`` is 'json' or 'yaml'."""
    try:
        content = to_text(raw)
        data = load_json(content) if fmt == "json" else load_yaml(content)
    except DecodeError as exc:
        raise FormError(source, [("(file)", str(exc))]) from None
    return parse_report(data, source)


_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def load_report_file(path: Path) -> Report:
    """Read a report form from a .json, .yaml or .yml file."""
    source = str(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FormError(source, [("(file)", "unknown format; use a .json, .yaml or .yml file")])
    try:
        if path.stat().st_size > MAX_FORM_BYTES:
            raise FormError(source, [("(file)", f"the file is larger than "
                                      f"{MAX_FORM_BYTES // 1024} KiB; attach long material "
                                      "separately")])
        with path.open("rb") as handle:
            raw = handle.read(MAX_FORM_BYTES + 1)
    except FileNotFoundError:
        raise FormError(source, [("(file)", "no such file")]) from None
    except IsADirectoryError:
        raise FormError(source, [("(file)", "is a directory, not a file")]) from None
    except OSError as exc:
        raise FormError(source, [("(file)", exc.strerror or str(exc))]) from None
    return load_report_bytes(raw, fmt, source)
