"""Checks of single values in a report form: each returns the value as the desk keeps it
or raises Bad with one short sentence for the person who wrote it.

The spellings people commonly use are taken (``TLP: amber strict``, ``cve-2026-1``,
``79`` for CWE-79, ``mailto:``, ``... UTC``); anything that would need a guess is
refused with the form to write instead.  A version is taken literally: range and
wildcard syntax written as one version is refused, never read as a range or a prefix.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from packageurl import PackageURL

from cvdesk.domain.model import CPE23_RE, CVE_RE, EMAIL_RE, TLP
from cvdesk.intake.fields import Bad, Path, Problems, show, text


def tlp(value: str) -> str:
    label = re.sub(r"^TLP\s*:?\s*", "", value.upper())
    label = re.sub(r"^AMBER\s*[-_+ ]\s*STRICT$", "AMBER+STRICT", label)
    label = "CLEAR" if label == "WHITE" else label
    if label not in TLP.__members__.values():
        raise Bad(f"{show(value)} is not a TLP label; use CLEAR, GREEN, AMBER, AMBER+STRICT "
                  "or RED")
    return label


_COMPARATOR = re.compile(r"^\s*(?:[<>=!~^]|\.\.)")
_WILDCARD = re.compile(r"\*|(?:^|[.\-])[xX](?:$|[.\-])")
_SEVERAL = re.compile(r"[,;\n]|\s(?:-|to|and|or|through|until|till)\s|\.\.", re.IGNORECASE)
_RANGE_WORDS = re.compile(r"\b(?:later|earlier|above|below|newer|older|before|after|prior|"
                          r"since|onwards?|up to|all|any|every)\b", re.IGNORECASE)


def version(value: str) -> str:
    """One version, exactly; range and wildcard syntax is refused, never guessed at."""
    if _COMPARATOR.search(value):
        raise Bad(f"{show(value)} is a range, not one version; write the version alone, or a "
                  "range as {introduced: ..., fixed: ...}")
    if _WILDCARD.search(value):
        extra = "; for every version write {introduced: '0'}" if value == "*" else ""
        raise Bad(f"{show(value)} is a wildcard, not one version; list the versions or write "
                  f"a range as {{introduced: ..., fixed: ...}}{extra}")
    if _SEVERAL.search(value) or _RANGE_WORDS.search(value):
        raise Bad(f"{show(value)} is more than one version; write one per list entry, a range "
                  "as {introduced: ..., fixed: ...}, or words in version_text")
    return value


def purl(value: str) -> str:
    try:
        PackageURL.from_string(value)
    except Exception:  # the library raises ValueError and others for odd input
        raise Bad(f"{show(value)} is not a package URL (pkg:type/namespace/name@version)"
                  ) from None
    return value


def cpe(value: str) -> str:
    if value.lower().startswith("cpe:/"):
        raise Bad(f"{show(value)} is a CPE 2.2 name; write the CPE 2.3 form, "
                  "cpe:2.3:part:vendor:product:version:...")
    if not CPE23_RE.fullmatch(value):
        raise Bad(f"{show(value)} is not a CPE 2.3 name (cpe:2.3:part:vendor:product:...)")
    return value


def email(value: str) -> str:
    value = re.sub(r"^mailto:", "", value, flags=re.IGNORECASE)
    if not EMAIL_RE.fullmatch(value):  # fullmatch: "$" would let a final newline through
        raise Bad(f"not an e-mail address ({show(value)})")
    return value


def cve(value: str) -> str:
    value = value.upper()
    if not CVE_RE.fullmatch(value):
        raise Bad(f"{show(value)} is not a CVE id (CVE-YYYY-NNNN)")
    return value


def cwe(value: str) -> str:
    found = re.fullmatch(r"(?:CWE[-_ :]?)?0*([1-9][0-9]{0,6})", value, re.IGNORECASE)
    if not found:
        several = "; write one per list entry" if re.search(r"[,;\s]", value) else ""
        raise Bad(f"{show(value)} is not a CWE id (CWE-NNN){several}")
    return f"CWE-{found.group(1)}"


def url(value: str) -> str:
    if not re.fullmatch(r"^https?://[^\s/?#]+\S*$", value, re.IGNORECASE):
        hint = "; add https://" if re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", value, re.I) else ""
        raise Bad(f"{show(value)} is not a web address (http:// or https://){hint}")
    return value


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def when(problems: Problems, value: Any, path: Path) -> datetime | None:
    """A date and time with its time zone (ISO 8601); the desk stores only aware times."""
    if isinstance(value, datetime):
        moment = value
    else:
        raw = text(problems, value, path, 64)
        if not raw:
            return None
        if _DATE_ONLY.fullmatch(raw):
            problems.add(path, f"{show(raw)} has no time or time zone; write e.g. "
                         f"{raw}T09:00+01:00 (Z for UTC)")
            return None
        cleaned = re.sub(r"\s*\b(?:UTC|GMT)$", "+00:00", raw, flags=re.IGNORECASE)
        cleaned = re.sub(r"\s+(?=[+-]\d\d(?::?\d\d)?$)", "", cleaned)
        try:
            moment = datetime.fromisoformat(cleaned)
        except ValueError:
            problems.add(path, f"{show(raw)} is not a date and time; write ISO 8601, e.g. "
                         "2027-02-01T18:00+01:00 (Z for UTC)")
            return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        problems.add(path, "has no time zone; add one, e.g. +01:00, or Z for UTC")
        return None
    if not 1970 <= moment.year <= 2999:
        problems.add(path, f"the year {moment.year} is out of range (1970-2999)")
        return None
    return moment
