"""Progress of long operations (a cold sweep, a contact import, notifying hundreds of
vendors, the demo load), reported to whoever asked.

A service takes an optional ``progress`` callable and calls it with (done, total) as the
work advances; ``total`` may grow when the service learns more.  The service does not
know whether a terminal bar, a web job page or nobody is listening, and it never waits
on the listener.
"""

from __future__ import annotations

from collections.abc import Callable

#: called with (items done, items in all)
Progress = Callable[[int, int], None]


def quiet(done: int, total: int) -> None:
    """The listener that ignores progress (scripts, tests, JSON output)."""
