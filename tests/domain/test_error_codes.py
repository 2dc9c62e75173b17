"""One table maps each error class to an exit code and an HTTP status (DESIGN.md)."""

from __future__ import annotations

import pytest

from cvdesk.domain.errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    Unavailable,
    codes,
)
from cvdesk.intake import FormError
from cvdesk.services.database import DatabaseNotReady
from cvdesk.settings import SettingsError
from cvdesk.store.cases import ConcurrentUpdate


@pytest.mark.parametrize(("error", "expected"), [
    (InvalidInput("at", "bad"), (2, 422)),
    (FormError("r.yaml", [("title", "missing")]), (2, 422)),
    (SettingsError("policy.x: unknown"), (2, 422)),
    (IllegalTransition("RM", "start", "accept", ["receive"]), (3, 409)),
    (NotFound("no case 'X'"), (4, 404)),
    (ConcurrentUpdate("changed"), (5, 409)),
    (Conflict("changed"), (5, 409)),
    (NotAllowed("no"), (1, 403)),
    (DatabaseNotReady("run init"), (1, 503)),
    (Unavailable("down"), (1, 503)),
    (DomainError("other"), (1, 400)),
])
def test_every_error_class_has_its_codes(error: Exception, expected: tuple[int, int]) -> None:
    assert codes(error) == expected


def test_anything_else_is_a_bug() -> None:
    assert codes(KeyError("x")) is None and codes(ValueError("x")) is None
