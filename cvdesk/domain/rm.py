"""Report management (Vultron RM): one machine per participant of a case."""

from __future__ import annotations

from enum import StrEnum

from cvdesk.domain.machine import Machine


class RM(StrEnum):
    START = "start"
    RECEIVED = "received"
    INVALID = "invalid"
    VALID = "valid"
    DEFERRED = "deferred"
    ACCEPTED = "accepted"
    CLOSED = "closed"

    @property
    def letter(self) -> str:
        return _LETTERS[self]


_LETTERS = {RM.START: "S", RM.RECEIVED: "R", RM.INVALID: "I", RM.VALID: "V",
            RM.DEFERRED: "D", RM.ACCEPTED: "A", RM.CLOSED: "C"}


class RMTrigger(StrEnum):
    RECEIVE = "receive"
    VALIDATE = "validate"
    INVALIDATE = "invalidate"
    ACCEPT = "accept"
    DEFER = "defer"
    CLOSE = "close"


RM_TABLE: dict[tuple[RM, RMTrigger], RM] = {
    (RM.START, RMTrigger.RECEIVE): RM.RECEIVED,
    (RM.RECEIVED, RMTrigger.VALIDATE): RM.VALID,
    (RM.INVALID, RMTrigger.VALIDATE): RM.VALID,
    (RM.RECEIVED, RMTrigger.INVALIDATE): RM.INVALID,
    (RM.VALID, RMTrigger.ACCEPT): RM.ACCEPTED,
    (RM.DEFERRED, RMTrigger.ACCEPT): RM.ACCEPTED,
    (RM.VALID, RMTrigger.DEFER): RM.DEFERRED,
    (RM.ACCEPTED, RMTrigger.DEFER): RM.DEFERRED,
    (RM.ACCEPTED, RMTrigger.CLOSE): RM.CLOSED,
    (RM.INVALID, RMTrigger.CLOSE): RM.CLOSED,
    (RM.DEFERRED, RMTrigger.CLOSE): RM.CLOSED,
}

RM_MACHINE: Machine[RM, RMTrigger] = Machine("RM (report management)", RM_TABLE, RM.START)

#: States in which a participant still has work to do on the report.
RM_OPEN = frozenset({RM.RECEIVED, RM.VALID, RM.ACCEPTED})
