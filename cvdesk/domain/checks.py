"""Checks on what people type, shared by the case aggregate and the services.

A trigger, an action or a kind arrives as text from a face; naming one that does
not exist is bad input (exit 2), never a crash and never a stored unknown value.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
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

