"""Embargo management (Vultron EM): one machine per case, plus each participant's consent."""

from __future__ import annotations

from enum import StrEnum

from cvdesk.domain.machine import Machine


class EM(StrEnum):
    NONE = "none"
    PROPOSED = "proposed"
    ACTIVE = "active"
    REVISE = "revise"
    EXITED = "exited"

    @property
    def letter(self) -> str:
        return {"none": "N", "proposed": "P", "active": "A", "revise": "R", "exited": "X"}[self]


class EMTrigger(StrEnum):
    PROPOSE = "propose"
    ACCEPT = "accept"
    REJECT = "reject"
    TERMINATE = "terminate"


EM_TABLE: dict[tuple[EM, EMTrigger], EM] = {
    (EM.NONE, EMTrigger.PROPOSE): EM.PROPOSED,
    (EM.PROPOSED, EMTrigger.PROPOSE): EM.PROPOSED,
    (EM.ACTIVE, EMTrigger.PROPOSE): EM.REVISE,
    (EM.REVISE, EMTrigger.PROPOSE): EM.REVISE,
    (EM.PROPOSED, EMTrigger.REJECT): EM.NONE,
    (EM.REVISE, EMTrigger.REJECT): EM.ACTIVE,
    (EM.PROPOSED, EMTrigger.ACCEPT): EM.ACTIVE,
    (EM.REVISE, EMTrigger.ACCEPT): EM.ACTIVE,
    (EM.ACTIVE, EMTrigger.TERMINATE): EM.EXITED,
    (EM.REVISE, EMTrigger.TERMINATE): EM.EXITED,
}

EM_MACHINE: Machine[EM, EMTrigger] = Machine("EM (embargo management)", EM_TABLE, EM.NONE)

#: States in which an embargo binds the participants.
EM_IN_FORCE = frozenset({EM.ACTIVE, EM.REVISE})


class Consent(StrEnum):
    """A participant's own standing towards the case embargo."""

    NO_EMBARGO = "no-embargo"
    INVITED = "invited"
    SIGNATORY = "signatory"
    DECLINED = "declined"
    LAPSED = "lapsed"


class ConsentTrigger(StrEnum):
    INVITE = "invite"
    SIGN = "sign"
    DECLINE = "decline"
    LAPSE = "lapse"
    WITHDRAW = "withdraw"


CONSENT_TABLE: dict[tuple[Consent, ConsentTrigger], Consent] = {
    (Consent.NO_EMBARGO, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.DECLINED, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.LAPSED, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.INVITED, ConsentTrigger.SIGN): Consent.SIGNATORY,
    (Consent.INVITED, ConsentTrigger.DECLINE): Consent.DECLINED,
    (Consent.SIGNATORY, ConsentTrigger.LAPSE): Consent.LAPSED,
    (Consent.INVITED, ConsentTrigger.WITHDRAW): Consent.NO_EMBARGO,
}

CONSENT_MACHINE: Machine[Consent, ConsentTrigger] = Machine(
    "embargo consent", CONSENT_TABLE, Consent.NO_EMBARGO
)
