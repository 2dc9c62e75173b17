"""Plain JSON-ready dictionaries for domain values (event payloads are stored as JSON)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from cvdesk.domain.advisory import Score
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    Report,
    ReporterInfo,
    VersionRange,
    Vulnerability,
)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def product_from_dict(d: dict[str, Any]) -> AffectedProduct:
    return AffectedProduct(
        product=d["product"], vendor=d.get("vendor", ""),
        versions=tuple(VersionRange(**v) for v in d.get("versions", ())),
        version_text=d.get("version_text", ""), purl=d.get("purl", ""), cpe=d.get("cpe", ""),
    )


def vulnerability_from_dict(d: dict[str, Any]) -> Vulnerability:
    return Vulnerability(
        title=d["title"], cve=d.get("cve", ""), cwes=tuple(d.get("cwes", ())),
        affected=tuple(product_from_dict(p) for p in d.get("affected", ())),
        description=d.get("description", ""),
        scores=tuple(score_from_dict(s) for s in d.get("scores", ())),
        references=tuple(d.get("references", ())),
    )


def score_from_dict(d: dict[str, Any]) -> Score:
    """A stored score: the numbers as computed when it was recorded (no re-scoring)."""
    return Score(version=d["version"], vector=d["vector"], base_score=float(d["base_score"]),
                 severity=d["severity"])


def report_from_dict(d: dict[str, Any]) -> Report:
    simple = {k: v for k, v in d.items()
              if k not in {"reporter", "products", "vulnerabilities", "tlp", "disclosure_date"}}
    for key in ("vendors", "reported_to", "public_urls", "tracking_ids"):
        if key in simple:
            simple[key] = tuple(simple[key])
    return Report(
        **simple,
        reporter=ReporterInfo(**d["reporter"]),
        tlp=TLP(d.get("tlp", TLP.AMBER)),
        products=tuple(product_from_dict(p) for p in d.get("products", ())),
        vulnerabilities=tuple(vulnerability_from_dict(v) for v in d.get("vulnerabilities", ())),
        disclosure_date=dt(d.get("disclosure_date")),
    )
