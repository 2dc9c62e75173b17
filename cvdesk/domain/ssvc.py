"""SSVC (CERT/CC Stakeholder-Specific Vulnerability Categorization): decision points and
the decision tables a coordinator, a supplier and a deployer use, encoded here.

Four decisions are encoded (coordinator triage, coordinator publish, supplier patch
development priority, deployer patch application priority) and the three helper tables
the first ones are built on (utility, public safety impact, human impact).  Each table
is a plain dict from the tuple of its inputs to its outcome (the Vultron habit: one table
per concept, no engine), written as small grids of the SSVC outcome letters so that a
reader can hold a row of the grid against a row of the published table.  The published
tables themselves (JSON, schema 2.0.0) are only read by the tests, which check every row.

Values are spelt in lower case with underscores (``public_poc``, ``mef_failure``); the
SSVC key (``P``, ``MEF``) and name (``Public PoC``) of each value are kept beside it, and
both spellings are accepted where people type them.  Errors name the decision point as
SSVC names it ("Value Density: 'x' is not ...").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import product
from typing import Any

from cvdesk.domain.errors import InvalidInput


class SsvcValue(StrEnum):
    """A value of a decision point or outcome, with its SSVC key and name."""

    key: str
    title: str

    def __new__(cls, value: str, key: str, title: str) -> SsvcValue:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.key = key
        obj.title = title
        return obj


class YesNo(SsvcValue):
    NO = "no", "N", "No"
    YES = "yes", "Y", "Yes"


class Exploitation(SsvcValue):
    NONE = "none", "N", "None"
    PUBLIC_POC = "public_poc", "P", "Public PoC"
    ACTIVE = "active", "A", "Active"


class ValueDensity(SsvcValue):
    DIFFUSE = "diffuse", "D", "Diffuse"
    CONCENTRATED = "concentrated", "C", "Concentrated"


class Utility(SsvcValue):
    LABORIOUS = "laborious", "L", "Laborious"
    EFFICIENT = "efficient", "E", "Efficient"
    SUPER_EFFECTIVE = "super_effective", "S", "Super Effective"


class TechnicalImpact(SsvcValue):
    PARTIAL = "partial", "P", "Partial"
    TOTAL = "total", "T", "Total"


class SafetyImpact(SsvcValue):
    NEGLIGIBLE = "negligible", "N", "Negligible"
    MARGINAL = "marginal", "M", "Marginal"
    CRITICAL = "critical", "R", "Critical"
    CATASTROPHIC = "catastrophic", "C", "Catastrophic"


class PublicSafetyImpact(SsvcValue):
    MINIMAL = "minimal", "M", "Minimal"
    SIGNIFICANT = "significant", "S", "Significant"


class MissionImpact(SsvcValue):
    DEGRADED = "degraded", "D", "Degraded"
    MEF_SUPPORT_CRIPPLED = "mef_support_crippled", "MSC", "MEF Support Crippled"
    MEF_FAILURE = "mef_failure", "MEF", "MEF Failure"
    MISSION_FAILURE = "mission_failure", "MF", "Mission Failure"


class HumanImpact(SsvcValue):
    LOW = "low", "L", "Low"
    MEDIUM = "medium", "M", "Medium"
    HIGH = "high", "H", "High"
    VERY_HIGH = "very_high", "VH", "Very High"


class SystemExposure(SsvcValue):
    SMALL = "small", "S", "Small"
    CONTROLLED = "controlled", "C", "Controlled"
    OPEN = "open", "O", "Open"


class ReportCredibility(SsvcValue):
    NOT_CREDIBLE = "not_credible", "NC", "Not Credible"
    CREDIBLE = "credible", "C", "Credible"


class SupplierCardinality(SsvcValue):
    ONE = "one", "O", "One"
    MULTIPLE = "multiple", "M", "Multiple"


class SupplierEngagement(SsvcValue):
    ACTIVE = "active", "A", "Active"
    UNRESPONSIVE = "unresponsive", "U", "Unresponsive"


class SupplierInvolvement(SsvcValue):
    FIX_READY = "fix_ready", "FR", "Fix Ready"
    COOPERATIVE = "cooperative", "C", "Cooperative"
    UNCOOPERATIVE = "uncooperative", "UU", "Uncooperative/Unresponsive"


class PublicValueAdded(SsvcValue):
    LIMITED = "limited", "L", "Limited"
    AMPLIATIVE = "ampliative", "A", "Ampliative"
    PRECEDENCE = "precedence", "P", "Precedence"


class Coordinate(SsvcValue):
    DECLINE = "decline", "D", "Decline"
    TRACK = "track", "T", "Track"
    COORDINATE = "coordinate", "C", "Coordinate"


class Publish(SsvcValue):
    DO_NOT_PUBLISH = "do_not_publish", "N", "Do Not Publish"
    PUBLISH = "publish", "P", "Publish"


class Priority(SsvcValue):
    """Defer, Scheduled, Out-of-Cycle, Immediate: the supplier's and the deployer's outcome."""

    DEFER = "defer", "D", "Defer"
    SCHEDULED = "scheduled", "S", "Scheduled"
    OUT_OF_CYCLE = "out_of_cycle", "O", "Out-of-Cycle"
    IMMEDIATE = "immediate", "I", "Immediate"


class Origin(StrEnum):
    """Where a decision point's value comes from on a case."""

    CASE = "case"  # always read from the case log; giving it is refused
    CASE_FIRST = "case_first"  # read from the case when it can tell; else given
    GIVEN = "given"  # a judgement the case log cannot hold: given by a person
    TABLE = "table"  # follows from other points by a helper table


@dataclass(frozen=True)
class Point:
    """One decision point (or outcome group): our id, its SSVC name, key and version."""

    id: str
    name: str
    key: str
    version: str
    values: type[SsvcValue]
    origin: Origin = Origin.GIVEN
    hint: str = ""  # how the case comes to hold it (CASE and CASE_FIRST points)

    @property
    def ssvc_id(self) -> str:
        return f"ssvc:{self.key}:{self.version}"

    def choices(self) -> str:
        return ", ".join(v.value for v in self.values)

    def parse(self, value: object) -> SsvcValue:
        """``value`` as one of this point's values: our spelling or the SSVC key or name,
        in any letter case, with '-' or ' ' for '_'."""
        if isinstance(value, self.values):
            return value
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        for member in self.values:
            if text in (member.value, member.key.lower(),
                        member.title.lower().replace("-", "_").replace(" ", "_")):
                return member
        raise InvalidInput(self.name, f"'{value}' is not one of {self.choices()}")


def _point(id_: str, name: str, key: str, version: str, values: type[SsvcValue],
           origin: Origin = Origin.GIVEN, hint: str = "") -> Point:
    return Point(id_, name, key, version, values, origin, hint)


POINTS: dict[str, Point] = {p.id: p for p in (
    _point("exploitation", "Exploitation", "E", "1.1.0", Exploitation, Origin.CASE,
           "record X (exploit public) or A (attacks observed) on the case"),
    _point("report_public", "Report Public", "RP", "1.0.0", YesNo, Origin.CASE,
           "record P (public aware) on the case"),
    _point("supplier_contacted", "Supplier Contacted", "SCON", "1.0.0", YesNo, Origin.CASE,
           "log the contact attempts to the vendors"),
    _point("supplier_engagement", "Supplier Engagement", "SE", "1.0.0", SupplierEngagement,
           Origin.CASE, "log the vendors' replies and report-management states"),
    _point("supplier_cardinality", "Supplier Cardinality", "SC", "1.0.0",
           SupplierCardinality, Origin.CASE_FIRST, "add the vendors to the case"),
    _point("supplier_involvement", "Supplier Involvement", "SINV", "1.0.0",
           SupplierInvolvement, Origin.CASE_FIRST, "add the vendors to the case"),
    _point("public_value_added", "Public Value Added", "PVA", "1.0.0", PublicValueAdded,
           Origin.CASE_FIRST, "precedence while P (public aware) is not recorded"),
    _point("report_credibility", "Report Credibility", "RC", "1.0.0", ReportCredibility),
    _point("automatable", "Automatable", "A", "2.0.0", YesNo),
    _point("value_density", "Value Density", "VD", "1.0.0", ValueDensity),
    _point("technical_impact", "Technical Impact", "TI", "1.0.0", TechnicalImpact),
    _point("safety_impact", "Safety Impact", "SI", "2.0.1", SafetyImpact),
    _point("mission_impact", "Mission Impact", "MI", "2.0.0", MissionImpact),
    _point("system_exposure", "System Exposure", "EXP", "1.0.1", SystemExposure),
    _point("utility", "Utility", "U", "1.0.1", Utility, Origin.TABLE),
    _point("public_safety_impact", "Public Safety Impact", "PSI", "2.0.1",
           PublicSafetyImpact, Origin.TABLE),
    _point("human_impact", "Human Impact", "HI", "2.0.2", HumanImpact, Origin.TABLE),
)}

OUTCOMES: dict[str, Point] = {p.id: p for p in (
    _point("coordinate", "Decline, Track, Coordinate", "COORDINATE", "1.0.1", Coordinate),
    _point("publish", "Publish, Do Not Publish", "PUBLISH", "1.0.0", Publish),
    _point("dsoi", "Defer, Scheduled, Out-of-Cycle, Immediate", "DSOI", "1.0.0", Priority),
)}


def point_named(name: str) -> Point:
    """A decision point by our id, its SSVC name or key, in any letter case."""
    text = name.strip().lower().replace("-", "_").replace(" ", "_")
    for p in POINTS.values():
        if text in (p.id, p.key.lower(), p.name.lower().replace(" ", "_")):
            return p
    raise InvalidInput("decision point", f"'{name}' is not an SSVC decision point cvdesk "
                       f"knows; one of: {', '.join(POINTS)}")


@dataclass(frozen=True)
class Table:
    """One decision table: inputs (decision point ids, in the table's order) -> outcome."""

    id: str
    name: str
    key: str
    inputs: tuple[str, ...]
    outcome: Point
    mapping: dict[tuple[SsvcValue, ...], SsvcValue] = field(repr=False)

    def lookup(self, *values: SsvcValue) -> SsvcValue:
        return self.mapping[values]


def _letters(point: Point, text: str) -> list[SsvcValue]:
    by_key = {v.key: v for v in point.values}
    return [by_key[k] for k in text.split()]


def _grid(rows: Iterable[tuple[SsvcValue, ...]], columns: Iterable[tuple[SsvcValue, ...]],
          outcome: Point, text: str) -> dict[tuple[SsvcValue, ...], SsvcValue]:
    """A table written as a grid of outcome keys: one line per row key, one letter per
    column key; the dict key is the row key followed by the column key."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    rows, columns = list(rows), list(columns)
    assert len(lines) == len(rows), (outcome.id, len(lines), len(rows))
    table: dict[tuple[SsvcValue, ...], SsvcValue] = {}
    for row, line in zip(rows, lines, strict=True):
        for column, cell in zip(columns, _letters(outcome, line), strict=True):
            table[row + column] = cell
    return table


def _all(*enums: type[SsvcValue]) -> list[tuple[SsvcValue, ...]]:
    return list(product(*enums))


_Y, _N = YesNo.YES, YesNo.NO
_COORD, _PUB, _DSOI = OUTCOMES["coordinate"], OUTCOMES["publish"], OUTCOMES["dsoi"]

# Helper tables.  Utility: automatable (rows N, Y) by value density (columns D, C).
UTILITY = Table("utility", "Utility", "DT_U", ("automatable", "value_density"),
                POINTS["utility"], _grid(_all(YesNo), _all(ValueDensity), POINTS["utility"], """
    L E
    E S
"""))

# Public safety impact: only a negligible safety impact is minimal.
PUBLIC_SAFETY_IMPACT = Table(
    "public_safety_impact", "Public Safety Impact", "DT_PSI", ("safety_impact",),
    POINTS["public_safety_impact"],
    _grid(_all(SafetyImpact), [()], POINTS["public_safety_impact"], "M\nS\nS\nS"))

# Human impact: safety impact (rows N M R C) by mission impact (columns D MSC MEF MF).
HUMAN_IMPACT = Table(
    "human_impact", "Human Impact", "DT_HI", ("safety_impact", "mission_impact"),
    POINTS["human_impact"],
    _grid(_all(SafetyImpact), _all(MissionImpact), POINTS["human_impact"], """
    L  L  M  VH
    L  L  M  VH
    M  H  H  VH
    VH VH VH VH
"""))

# Coordinator triage.  Once the report is public, or while nobody has tried the
# supplier, the coordinator steps in only for a super-effective exploit with a
# significant public safety impact in a component with several suppliers; otherwise it
# declines.  For a private report whose supplier was contacted, the grid below decides:
# rows credibility x cardinality x engagement, columns utility x public safety impact
# (L-M L-S E-M E-S S-M S-S).
_TRIAGE_CONTACTED = _grid(
    _all(ReportCredibility, SupplierCardinality, SupplierEngagement),
    _all(Utility, PublicSafetyImpact), _COORD, """
    D D D T D T
    D D D T D T
    D T D T T C
    D T D T T C
    D D D T D T
    T C C C C C
    D T D T C C
    C C C C C C
""")


def _triage(rp: SsvcValue, scon: SsvcValue, rc: SsvcValue, sc: SsvcValue, se: SsvcValue,
            u: SsvcValue, psi: SsvcValue) -> SsvcValue:
    if rp is _Y or scon is _N:
        urgent = (sc, u, psi) == (SupplierCardinality.MULTIPLE, Utility.SUPER_EFFECTIVE,
                                  PublicSafetyImpact.SIGNIFICANT)
        return Coordinate.COORDINATE if urgent else Coordinate.DECLINE
    return _TRIAGE_CONTACTED[(rc, sc, se, u, psi)]


def _from_function(enums: Iterable[type[SsvcValue]],
                   decide: Callable[..., SsvcValue]) -> dict[tuple[SsvcValue, ...], SsvcValue]:
    return {values: decide(*values) for values in product(*enums)}


COORDINATOR_TRIAGE = Table(
    "coordinator_triage", "Coordinator Triage", "DT_COORD_TRIAGE",
    ("report_public", "supplier_contacted", "report_credibility", "supplier_cardinality",
     "supplier_engagement", "utility", "public_safety_impact"), _COORD,
    _from_function((YesNo, YesNo, ReportCredibility, SupplierCardinality, SupplierEngagement,
                    Utility, PublicSafetyImpact), _triage))

# Coordinator publish: rows supplier involvement (FR C UU), columns exploitation x public
# value added (N-L N-A N-P P-L P-A P-P A-L A-A A-P).  Precedence always publishes.
COORDINATOR_PUBLISH = Table(
    "coordinator_publish", "Coordinator Publish", "DT_COORD_PUBLISH",
    ("supplier_involvement", "exploitation", "public_value_added"), _PUB,
    _grid(_all(SupplierInvolvement), _all(Exploitation, PublicValueAdded), _PUB, """
    N N P N N P N P P
    N N P N N P N P P
    N N P N P P P P P
"""))

# Supplier patch development priority: rows exploitation x utility, columns technical
# impact x public safety impact (P-M P-S T-M T-S).
SUPPLIER_PATCH_PRIORITY = Table(
    "supplier_patch_priority", "Supplier Patch Development Priority", "DT_SP",
    ("exploitation", "utility", "technical_impact", "public_safety_impact"), _DSOI,
    _grid(_all(Exploitation, Utility), _all(TechnicalImpact, PublicSafetyImpact), _DSOI, """
    D S S O
    S O S O
    S O O O
    S O S I
    S I O I
    O I O I
    O I O I
    O I O I
    I I I I
"""))

# Deployer patch application priority: rows exploitation x system exposure, columns
# automatable x human impact (N-L N-M N-H N-VH Y-L Y-M Y-H Y-VH).
DEPLOYER_PATCH_PRIORITY = Table(
    "deployer_patch_priority", "Deployer Patch Application Priority", "DT_DP",
    ("exploitation", "system_exposure", "automatable", "human_impact"), _DSOI,
    _grid(_all(Exploitation, SystemExposure), _all(YesNo, HumanImpact), _DSOI, """
    D D S S D S S S
    D S S S S S S S
    D S S S S S S O
    D S S S S S S S
    D S S S S S S O
    S S S O S S O O
    S S O O S O O O
    S S O O O O O O
    S O O I O O I I
"""))

#: The helper tables, by the decision point they give.
HELPERS: dict[str, Table] = {t.outcome.id: t for t in (UTILITY, PUBLIC_SAFETY_IMPACT,
                                                      HUMAN_IMPACT)}
#: The four decisions, in the order a case meets them.
DECISIONS: tuple[Table, ...] = (COORDINATOR_TRIAGE, COORDINATOR_PUBLISH,
                                SUPPLIER_PATCH_PRIORITY, DEPLOYER_PATCH_PRIORITY)
TABLES: dict[str, Table] = {t.key: t for t in (*DECISIONS, *HELPERS.values())}


# ------------------------------------------------------------------ deciding
def compose(values: Mapping[str, Any]) -> dict[str, SsvcValue]:
    """The values parsed, plus what the helper tables give from them.  A helper point
    given directly must agree with its inputs when those are given too."""
    parsed: dict[str, SsvcValue] = {}
    for name, value in values.items():
        if value is None:
            continue
        point = POINTS.get(name) or point_named(name)
        parsed[point.id] = point.parse(value)
    for pid, helper in HELPERS.items():
        if all(i in parsed for i in helper.inputs):
            got = helper.lookup(*(parsed[i] for i in helper.inputs))
            if pid in parsed and parsed[pid] is not got:
                inputs = ", ".join(f"{POINTS[i].name} {parsed[i].value}"
                                   for i in helper.inputs)
                raise InvalidInput(POINTS[pid].name, f"given as {parsed[pid].value}, but "
                                   f"{inputs} give {got.value} ({helper.name} table)")
            parsed[pid] = got
    return parsed


def needs(table: Table, values: Mapping[str, SsvcValue]) -> tuple[Point, ...]:
    """The points, as people give them, still missing for ``table`` (helper points stand
    for their inputs)."""
    missing: list[Point] = []
    for pid in table.inputs:
        if pid in values:
            continue
        helper = HELPERS.get(pid)
        wanted = helper.inputs if helper is not None else (pid,)
        missing.extend(POINTS[w] for w in wanted if w not in values
                       and POINTS[w] not in missing)
    return tuple(missing)


def decide(table: Table, values: Mapping[str, Any]) -> SsvcValue:
    """The outcome of ``table`` for ``values`` (point id or SSVC name -> value); a missing
    or wrong value is bad input naming the decision point."""
    parsed = compose(values)
    missing = needs(table, parsed)
    if missing:
        raise InvalidInput(missing[0].name, f"needed for the {table.name} decision; give one "
                           f"of {missing[0].choices()}")
    return table.lookup(*(parsed[i] for i in table.inputs))


def check_given(values: Mapping[str, str | None]) -> dict[str, str | None]:
    """What a person gave, checked and in our spelling (None clears a value given before).
    Points the case log decides, and points a helper table gives, are refused."""
    if not values:
        raise InvalidInput("decision point", "give at least one decision point and value")
    checked: dict[str, str | None] = {}
    for name, value in values.items():
        point = point_named(name)
        if point.origin is Origin.CASE:
            raise InvalidInput(point.name, "comes from the case log and cannot be given; "
                               f"{point.hint} instead")
        if point.origin is Origin.TABLE:
            helper = HELPERS[point.id]
            inputs = " and ".join(POINTS[i].name for i in helper.inputs)
            raise InvalidInput(point.name, f"follows from {inputs} ({helper.name} table); "
                               "give those instead")
        if point.id in checked:
            raise InvalidInput(point.name, "given twice")
        text = None if value is None or not str(value).strip() else point.parse(value).value
        checked[point.id] = text
    return checked
