"""What the API's requests accept and its answers hold, said in its OpenAPI document
(issue 11).  The allowed values come from the domain's own enums and tables, never a
copied list, so the document cannot drift from what the services take; a value the
document allows is one the services understand.  What no schema can say (a date that
must lie in the future, a participant that must exist in this case) the services still
judge, and refuse naming the field."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import EMAIL_RE, YEARS, check_year


def one_of(values: Iterable[str | Enum]) -> Any:
    """A ``Literal`` of the given values (an enum's, or a service's table of names)."""
    return Literal[tuple(v.value if isinstance(v, Enum) else v for v in values)]


def _years_pattern(low: int, high: int) -> str:
    """A regular expression for the years ``low``-``high``, by decade: JSON Schema has no
    bounds for a date-time, so its leading year says the domain's YEARS."""
    parts: list[str] = []
    for decade in range(low // 10, high // 10 + 1):
        first, last = max(low, decade * 10) % 10, min(high, decade * 10 + 9) % 10
        parts.append(f"{decade}[{first}-{last}]")
    return f"^({'|'.join(parts)})-"


def _spaces() -> str:
    """The characters Python counts as white space (``str.strip``, ``\\s``), as the body
    of a character class spelled out: a JSON Schema reader takes ``\\s`` the way
    JavaScript does, which differs (U+001C-U+001F, U+0085, U+FEFF)."""
    ranges: list[list[int]] = []
    for code in (c for c in range(0x3001) if chr(c).isspace()):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b > a else "") for a, b in ranges)


SPACES = _spaces()
#: Text that must hold something besides white space (the services trim what they get
#: and refuse an empty field).
NON_BLANK = f"[^{SPACES}]"
#: An e-mail address as the domain checks it (``check_email``), or nothing.
EMAIL_OR_EMPTY = "^$|" + EMAIL_RE.pattern.replace("\\s", SPACES)


def _in_years(value: datetime) -> datetime:
    try:
        return check_year(value, "time")
    except InvalidInput as exc:  # said as pydantic's own refusal, so it names the field
        raise ValueError(exc.problem) from None


#: An instant with its time zone, in the years a disclosure date can fall in.
When = Annotated[AwareDatetime, AfterValidator(_in_years),
                 Field(json_schema_extra={"pattern": _years_pattern(*YEARS)})]


def text(max_length: int, *, blank: bool = True, **kw: Any) -> Any:
    """A text field: at most ``max_length`` characters; ``blank=False``: not empty and
    not only white space."""
    if blank:
        return Annotated[str, Field(max_length=max_length, **kw)]
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=NON_BLANK,
                                **kw)]


class Body(BaseModel):
    """A request body: it names only its own fields.  Its patterns use no ``\\s``, so
    pydantic's reading and a JSON Schema reader's agree."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ answers
class DoneModel(BaseModel):
    """What a write did: the case's version after it (the next write's ``version``)."""

    case_id: str
    action: str
    version: int = Field(ge=0)
    message: str
    result: dict[str, Any] | None = Field(None, description="What the write made, when "
                                          "it made something (a participant, a statement, "
                                          "the published documents)")


class FindingModel(BaseModel):
    """A troubleshooting finding as the caller sees it: the desk's handling, next to the
    rule's own words (problem, guide section, evidence, actions)."""

    model_config = ConfigDict(extra="allow")

    id: int
    status: str
    first_seen_at: str | None
    snoozed_until: str | None
    handled_reason: str | None


class DocumentModel(BaseModel):
    format: str
    filename: str
    size: int = Field(ge=0)
    sha256: str
    path: str | None
    content: str


class DraftModel(BaseModel):
    """The advisory as it would be published now: one document per format, what the
    formats have no place for, the formats that refused it and what the case holds that
    the advisory leaves out."""

    case_id: str
    version: str
    status: str
    documents: list[DocumentModel]
    skipped: list[str]
    refused: list[str]
    left_out: list[str]


class SweepModel(BaseModel):
    swept: int = Field(ge=0, description="How many cases were judged again")


# The path and paging parameters every case route takes, declared once.
CaseIdPath = Annotated[str, Path(max_length=32)]
OffsetQuery = Annotated[int, Query(ge=0, le=10**9)]
LimitQuery = Annotated[int, Query(ge=1, le=200)]
