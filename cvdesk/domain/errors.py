"""The domain layer's exceptions: one root, so faces can catch everything the domain refuses."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Root of everything the domain refuses. Faces print the message and exit non-zero."""


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


class InvalidInput(DomainError):
    """A value that breaks a domain rule; names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotFound(DomainError):
    """A case, participant or other thing that does not exist."""
