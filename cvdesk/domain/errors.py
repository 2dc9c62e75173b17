"""The domain layer's exceptions: one root, so faces can catch everything the domain refuses."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Root of everything the domain refuses. Faces print the message and exit non-zero."""


class BadInput(DomainError):
    """Root of the errors in what someone gave: a field, a file, a setting."""


class Conflict(DomainError):
    """Someone else changed the same thing first; reading again and retrying can succeed."""


class NotAllowed(DomainError):
    """The one acting may not do or see this."""


class Unavailable(DomainError):
    """The desk cannot serve this now (no database, an older schema): not the user's
    mistake, and not a refusal of the model."""


class IllegalTransition(DomainError):
    """A trigger that the named model does not allow from the current state."""

    def __init__(self, model: str, state: str, trigger: str, allowed: Iterable[str],
                 subject: str = "") -> None:
        self.model = model
        self.state = state
        self.trigger = trigger
        self.allowed = sorted(allowed)
        self.subject = subject
        where = f" for {subject}" if subject else ""
        allowed_txt = ", ".join(self.allowed) if self.allowed else "none (final state)"
        super().__init__(
            f"{model}: '{trigger}' is not allowed in state '{state}'{where}; "
            f"allowed from '{state}': {allowed_txt}"
        )


class InvalidInput(BadInput):
    """A value that breaks a domain rule; names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotSignedIn(NotAllowed):
    """Nobody is signed in, or the session, token or link has expired (HTTP 401)."""


class TooManyAttempts(NotAllowed):
    """Refused for a while after repeated failures, e.g. sign-ins (HTTP 429)."""

    def __init__(self, what: str, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        minutes = max(1, (self.retry_after_seconds + 59) // 60)
        super().__init__(f"{what}: too many failed attempts; try again in "
                         f"{minutes} minute{'s' if minutes != 1 else ''}")


class NotFound(DomainError):
    """A case, participant or other thing that does not exist."""


#: The one table from error classes to what each face answers: (exit code, HTTP status).
#: The first class in the table that an error is an instance of decides, so subclasses
#: come before their roots.  Exit code 1 covers every other refusal, as does HTTP 400.
ERROR_CODES: tuple[tuple[type[DomainError], int, int], ...] = (
    (BadInput, 2, 422),
    (IllegalTransition, 3, 409),
    (NotFound, 4, 404),
    (Conflict, 5, 409),
    (NotSignedIn, 1, 401),
    (TooManyAttempts, 1, 429),
    (NotAllowed, 1, 403),
    (Unavailable, 1, 503),
    (DomainError, 1, 400),
)


def codes(error: BaseException) -> tuple[int, int] | None:
    """(exit code, HTTP status) of a domain error; None for anything else (a bug)."""
    for cls, exit_code, status in ERROR_CODES:
        if isinstance(error, cls):
            return exit_code, status
    return None
