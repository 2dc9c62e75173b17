"""Pure domain: the formal CVD models (RM, EM, CS), case records and policy. No I/O here."""

from cvdesk.domain.case import Case, ParticipantState, default_embargo_end
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM, Consent, ConsentTrigger, EMTrigger
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Direction,
    Message,
    Report,
    ReporterInfo,
    Role,
    VersionRange,
    Vulnerability,
)
from cvdesk.domain.policy import Policy, leak_risk
from cvdesk.domain.rm import RM, RMTrigger

__all__ = [
    "EM", "RM", "TLP", "AffectedProduct", "AttemptOutcome", "CSEvent", "Case", "CaseStatus",
    "Channel", "Consent", "ConsentTrigger", "Direction", "DomainError", "EMTrigger", "Event",
    "EventType", "IllegalTransition", "InvalidInput", "Message", "NotFound", "ParticipantState",
    "Policy", "RMTrigger", "Report", "ReporterInfo", "Role", "VersionRange", "Vulnerability",
    "default_embargo_end", "leak_risk",
]
