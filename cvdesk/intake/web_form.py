"""The report form (guide appendix C) as an HTML form: flat fields in, the form's tree out.

The fields are the report form's own (``report_form._FORM_KEYS``): this module adds a
label and an input kind to each, and turns what a browser posts (text, lines, ticked
boxes) into the tree ``parse_report`` reads.  So a web report is checked by the very
rules a file is, its problems are named by the same paths (``title``,
``reporter.email``, ``products[1].product``), and a field added to the form cannot be
forgotten here: tests/intake/test_web_form.py checks that every form key has a field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cvdesk.domain.model import TLP
from cvdesk.intake.report_form import _FORM_KEYS, _REPORTER_KEYS

#: lines a list field takes (the form's own limits say the rest)
MAX_LINES = 1000


@dataclass(frozen=True, slots=True)
class WebField:
    """One input of the web report form.  ``kind``: text, email, area (long text), lines
    (a list, one entry a line), check (a yes/no box), choice (one of ``choices``)."""

    name: str
    label: str
    kind: str = "text"
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    section: str = ""


_SPECS: dict[str, tuple[str, str, str]] = {
    # key: (label, kind, help)
    "title": ("Title", "text", "One line: what is vulnerable, and how."),
    "description": ("Description", "area", "What the vulnerability is and how to "
                    "reproduce it."),
    "tlp": ("Sharing (TLP)", "choice", "Who may learn of this report: TLP 2.0."),
    "products": ("Affected products", "lines", "One product a line; add the affected "
                 "versions after a '|', e.g. 'HelpDesk | 4.2 to 4.9'."),
    "vendors": ("Vendors", "lines", "The makers of the products, one a line."),
    "exploit": ("Exploit or proof of concept", "area", ""),
    "impact": ("Impact", "area", "What an attacker gains."),
    "how_found": ("How it was found", "area", ""),
    "when_found": ("When it was found", "text", ""),
    "reported_to": ("Who else was told", "lines", "Vendors, coordinators or others, one "
                    "a line."),
    "public": ("It is public already", "check", ""),
    "public_urls": ("Where it is public", "lines", "Web addresses, one a line."),
    "exploited": ("It is exploited (attacks seen)", "check", ""),
    "exploitation_evidence": ("Evidence of attacks", "area", ""),
    "disclosure_plans": ("Your disclosure plans", "area", "A talk, a paper, a blog "
                         "post..."),
    "disclosure_date": ("Planned disclosure date", "text", "With a time zone, e.g. "
                        "2027-02-01T18:00+01:00 (Z for UTC)."),
    "share_contact": ("My contact details may be shared with the vendors", "check", ""),
    "wants_credit": ("I would like to be credited", "check", ""),
    "credit_as": ("Credit me as", "text", ""),
    "tracking_ids": ("Other tracking ids", "lines", "Ids given by others, one a line."),
    "vulnerabilities": ("Vulnerabilities", "lines", "When there are several, one title "
                        "a line."),
}
_REPORTER_SPECS: dict[str, tuple[str, str]] = {
    "name": ("Your name", "text"), "organization": ("Organization", "text"),
    "email": ("E-mail", "email"), "phone": ("Phone", "text"),
    "pgp_key": ("OpenPGP public key", "area"),
}
_REQUIRED = {"title", "description"}
_SECTIONS = {"title": "The vulnerability", "reporter": "You (all optional)",
             "how_found": "How and when", "public": "Public or exploited",
             "disclosure_plans": "Disclosure and credit"}


def _fields() -> tuple[WebField, ...]:
    out: list[WebField] = []
    for key in _FORM_KEYS:
        if key == "reporter":
            for i, sub in enumerate(_REPORTER_KEYS):
                label, kind = _REPORTER_SPECS.get(sub, (sub.replace("_", " "), "text"))
                out.append(WebField(f"reporter.{sub}", label, kind,
                                    section=_SECTIONS["reporter"] if i == 0 else ""))
            continue
        label, kind, help_ = _SPECS.get(key, (key.replace("_", " ").capitalize(), "area", ""))
        choices = tuple(t.value for t in TLP) if key == "tlp" else ()
        out.append(WebField(key, label, kind, help_, key in _REQUIRED, choices,
                            _SECTIONS.get(key, "")))
    return tuple(out)


#: Every input of the web form, in the order of the report form.
WEB_FIELDS: tuple[WebField, ...] = _fields()
_BY_NAME = {f.name: f for f in WEB_FIELDS}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()][:MAX_LINES + 1]


def form_tree(posted: Mapping[str, str], *, anonymous_name: str = "anonymous"
              ) -> dict[str, Any]:
    """The report form's tree from what a browser posted.  Empty fields are left out
    (so a required one is 'missing'); an unticked box says nothing (so public_urls
    still imply 'public'); a reporter who gave nothing is ``anonymous_name``."""
    tree: dict[str, Any] = {}
    reporter: dict[str, str] = {}
    for field in WEB_FIELDS:
        raw = posted.get(field.name, "")
        value = raw if isinstance(raw, str) else ""
        if field.name.startswith("reporter."):
            if value.strip():
                reporter[field.name.split(".", 1)[1]] = value
            continue
        if field.kind == "check":
            if value:
                tree[field.name] = True
        elif field.kind == "lines":
            lines = _lines(value)
            if lines:
                tree[field.name] = [_product(line) for line in lines] \
                    if field.name == "products" else lines
        elif value.strip():
            tree[field.name] = value
    tree["reporter"] = reporter or {"name": anonymous_name}
    if "name" not in tree["reporter"]:
        tree["reporter"]["name"] = anonymous_name
    return tree


def _product(line: str) -> Any:
    """'Product | versions in words' -> a product; the words go to version_text, which is
    taken as written (never read as a range)."""
    name, bar, versions = line.partition("|")
    if not bar or not versions.strip():
        return name.strip()
    return {"product": name.strip(), "version_text": versions.strip()}


_STEP = re.compile(r"^([A-Za-z_]+)(?:\[(\d+)\])?")


def field_of(path: str) -> tuple[str, str]:
    """(the input a problem's path belongs to, a prefix saying where in it).  A problem
    at ``products[1].product`` belongs to the products box, 'line 2'."""
    if path.startswith("reporter."):
        sub = path.split(".", 2)[1]
        name = f"reporter.{sub}"
        return (name, "") if name in _BY_NAME else ("reporter.name", "")
    found = _STEP.match(path)
    if found is None or found.group(1) not in _BY_NAME:
        return "", ""
    name, index = found.group(1), found.group(2)
    if index is not None and _BY_NAME[name].kind == "lines":
        return name, f"line {int(index) + 1}"
    return name, ""
