"""Checks on what people type, shared by the case aggregate and the services.

A trigger, an action or a kind arrives as text from a face; naming one that does
not exist is bad input (exit 2), never a crash and never a stored unknown value.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING, TypeVar

from cvdesk.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cvdesk.domain.state import ParticipantState

E = TypeVar("E", bound=StrEnum)


def member(enum: type[E], value: object, field: str, what: str = "") -> E:
    """``value`` as a member of ``enum``; InvalidInput naming the allowed names otherwise."""
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip())
    except ValueError:
        names = ", ".join(e.value for e in enum)
        label = f"{what} " if what else ""
        raise InvalidInput(field, f"'{value}' is not a known {label}name; one of: "
                           f"{names}") from None


def choose(options: Iterable[str], value: str, field: str, what: str = "") -> str:
    """``value`` if it is one of ``options`` (plain strings, e.g. service actions)."""
    allowed = list(options)
    if value in allowed:
        return value
    label = f"{what} " if what else ""
    raise InvalidInput(field, f"'{value}' is not a known {label}name; one of: "
                       f"{', '.join(allowed)}")


def party_key(text: str) -> str:
    """How two names or addresses are compared: trimmed, case-insensitive."""
    return " ".join(text.split()).casefold()


def same_party(participants: Iterable[ParticipantState], name: str,
               email: str = "") -> tuple[ParticipantState, str] | None:
    """The participant already on the case under this name or e-mail address, and which of
    the two matched (one party is one participant: its RM state and contact log are one)."""
    name_key, email_key = party_key(name), party_key(email)
    for p in participants:
        if name_key and party_key(p.name) == name_key:
            return p, "name"
        if email_key and party_key(p.email) == email_key:
            return p, "email"
    return None


class PartyIndex:
    """``same_party`` by key lookup, so that naming n vendors at once costs n look-ups rather
    than n scans of everyone already on the case.

    Participants are only ever added, in pid order, and never renamed, so the index catches
    up with the case's participant dict by indexing only the ones it has not seen yet.  The
    answer is the one ``same_party`` gives: the earliest participant matching by name or
    by address, and "name" when one participant matches both ways.
    """

    def __init__(self) -> None:
        self._seen = 0
        self._by_name: dict[str, ParticipantState] = {}
        self._by_email: dict[str, ParticipantState] = {}
        self.last_pid = 0

    def _catch_up(self, participants: dict[int, ParticipantState]) -> None:
        behind = len(participants) - self._seen
        if not behind:
            return
        # The newest ones, read from the end of the (insertion-ordered) dict: copying
        # every participant to reach the last one made adding n vendors cost n * n.
        newest = list(islice(reversed(participants.values()), behind))
        for p in reversed(newest):
            if key := party_key(p.name):
                self._by_name.setdefault(key, p)
            if key := party_key(p.email):
                self._by_email.setdefault(key, p)
            self.last_pid = max(self.last_pid, p.pid)
        self._seen = len(participants)

    def next_pid(self, participants: dict[int, ParticipantState]) -> int:
        self._catch_up(participants)
        return self.last_pid + 1

    def find(self, participants: dict[int, ParticipantState], name: str,
             email: str = "") -> tuple[ParticipantState, str] | None:
        self._catch_up(participants)
        name_key, email_key = party_key(name), party_key(email)
        by_name = self._by_name.get(name_key) if name_key else None
        by_email = self._by_email.get(email_key) if email_key else None
        if by_name is not None and (by_email is None or by_name.pid <= by_email.pid):
            return by_name, "name"
        if by_email is not None:
            return by_email, "email"
        return None
