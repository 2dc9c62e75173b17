"""The report form (guide appendix C) as JSON or YAML, validated field by field.

Every problem is reported with the path of the field it concerns, so a reporter
can fix a file in one pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from packageurl import PackageURL
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cvdesk.domain.errors import DomainError
from cvdesk.domain.model import (
    CPE23_RE,
    CVE_RE,
    CWE_RE,
    EMAIL_RE,
    TLP,
    AffectedProduct,
    Report,
    ReporterInfo,
    VersionRange,
    Vulnerability,
)

MAX_FORM_BYTES = 2 * 1024 * 1024


class FormError(DomainError):
    """A report form with problems; ``problems`` is a list of (field, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {f}: {m}" for f, m in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the report form\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Range(_Model):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None

    @model_validator(mode="after")
    def _one_end(self) -> _Range:
        if self.fixed and self.last_affected:
            raise ValueError("give either 'fixed' or 'last_affected', not both")
        if not (self.introduced or self.fixed or self.last_affected):
            raise ValueError("a range needs introduced, fixed or last_affected")
        return self


class _Product(_Model):
    product: str = Field(min_length=1)
    vendor: str = ""
    versions: list[_Range] = []
    version_text: str = ""
    purl: str = ""
    cpe: str = ""

    @field_validator("purl")
    @classmethod
    def _purl(cls, value: str) -> str:
        if value:
            try:
                PackageURL.from_string(value)
            except ValueError as exc:
                raise ValueError(f"not a package URL: {exc}") from None
        return value

    @field_validator("cpe")
    @classmethod
    def _cpe(cls, value: str) -> str:
        if value and not CPE23_RE.match(value):
            raise ValueError("not a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:...)")
        return value


class _Vulnerability(_Model):
    title: str = Field(min_length=1)
    cve: str = ""
    cwes: list[str] = []
    affected: list[_Product] = []
    description: str = ""

    @field_validator("cve")
    @classmethod
    def _cve(cls, value: str) -> str:
        if value and not CVE_RE.match(value):
            raise ValueError("not a CVE id (CVE-YYYY-NNNN)")
        return value

    @field_validator("cwes")
    @classmethod
    def _cwes(cls, value: list[str]) -> list[str]:
        for cwe in value:
            if not CWE_RE.match(cwe):
                raise ValueError(f"'{cwe}' is not a CWE id (CWE-NNN)")
        return value


class _Reporter(_Model):
    name: str = Field(min_length=1)
    organization: str = ""
    email: str = ""
    pgp_key: str = ""
    phone: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL_RE.match(value):
            raise ValueError("not an e-mail address")
        return value


class _Form(_Model):
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    reporter: _Reporter
    tlp: TLP = TLP.AMBER
    products: list[_Product | str] = []
    vendors: list[str] = []
    exploit: str = ""
    impact: str = ""
    how_found: str = ""
    when_found: str = ""
    reported_to: list[str] = []
    public: bool = False
    public_urls: list[str] = []
    exploited: bool = False
    exploitation_evidence: str = ""
    disclosure_plans: str = ""
    disclosure_date: AwareDatetime | None = None
    share_contact: bool = False
    wants_credit: bool = False
    credit_as: str = ""
    tracking_ids: list[str] = []
    vulnerabilities: list[_Vulnerability] = []

    @field_validator("tlp", mode="before")
    @classmethod
    def _tlp(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper().removeprefix("TLP:")
            if value == "WHITE":
                value = "CLEAR"
        return value

    @model_validator(mode="after")
    def _consistent(self) -> _Form:
        if self.public_urls and not self.public:
            raise ValueError("public_urls given but public is false")
        if self.exploitation_evidence and not self.exploited:
            raise ValueError("exploitation_evidence given but exploited is false")
        return self


def _product(p: _Product | str) -> AffectedProduct:
    if isinstance(p, str):
        return AffectedProduct(product=p)
    return AffectedProduct(
        product=p.product, vendor=p.vendor, version_text=p.version_text, purl=p.purl, cpe=p.cpe,
        versions=tuple(VersionRange(r.introduced, r.fixed, r.last_affected) for r in p.versions))


def parse_report(data: Any, source: str = "report") -> Report:
    """Validate a decoded form (a mapping) and build the domain Report."""
    if not isinstance(data, dict):
        raise FormError(source, [("(top level)", "the form must be a mapping of field names "
                                  f"to values, not {type(data).__name__}")])
    try:
        form = _Form.model_validate(data)
    except ValidationError as exc:
        raise FormError(source, [
            (".".join(str(p) for p in err["loc"]) or "(top level)", _message(err))
            for err in exc.errors()]) from None
    return Report(
        title=form.title, description=form.description,
        reporter=ReporterInfo(**form.reporter.model_dump()), tlp=form.tlp,
        products=tuple(_product(p) for p in form.products), vendors=tuple(form.vendors),
        exploit=form.exploit, impact=form.impact, how_found=form.how_found,
        when_found=form.when_found, reported_to=tuple(form.reported_to), public=form.public,
        public_urls=tuple(form.public_urls), exploited=form.exploited,
        exploitation_evidence=form.exploitation_evidence,
        disclosure_plans=form.disclosure_plans, disclosure_date=form.disclosure_date,
        share_contact=form.share_contact, wants_credit=form.wants_credit,
        credit_as=form.credit_as, tracking_ids=tuple(form.tracking_ids),
        vulnerabilities=tuple(
            Vulnerability(title=v.title, cve=v.cve, cwes=tuple(v.cwes),
                          affected=tuple(_product(p) for p in v.affected),
                          description=v.description)
            for v in form.vulnerabilities),
    )


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def load_report_file(path: Path) -> Report:
    """Read a report form from a .json, .yaml or .yml file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FormError(source, [("(file)", "no such file")]) from None
    except OSError as exc:
        raise FormError(source, [("(file)", exc.strerror or str(exc))]) from None
    if len(raw) > MAX_FORM_BYTES:
        raise FormError(source, [("(file)", f"larger than {MAX_FORM_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(source, [("(file)", f"not UTF-8 text ({exc.reason} at byte "
                                  f"{exc.start})")]) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise FormError(source, [("(file)", "unknown format; use a .json, .yaml or .yml "
                                      "file")])
    except json.JSONDecodeError as exc:
        raise FormError(source, [("(file)", f"invalid JSON at line {exc.lineno} column "
                                  f"{exc.colno}: {exc.msg}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise FormError(source, [("(file)", f"invalid YAML{where}: "
                                  f"{getattr(exc, 'problem', None) or exc}")]) from None
    return parse_report(data, source)
