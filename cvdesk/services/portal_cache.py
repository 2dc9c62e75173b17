"""A small memory of the case page's costlier reads, per database, keyed by the case's
version (issue 11, speed).

Every change to a case appends to its log and raises its ``version`` in the same
transaction, so a read made at one version holds for as long as the case stays at that
version: keyed by it, a remembered answer can be stale only if the version is, and the
version is read with the rest of the page.  What is kept is small (counts per day, the
embargo's entries, vulnerability headings, one page's statements), bounded in number,
and private to the process; several workers each keep their own.

The words of each kind of finding (``finding_kinds``) are kept too: a kind, once stored
under its name, never changes (cvdesk.store.findings), so they are read again only when
a finding names a kind not read yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

T = TypeVar("T")

#: Entries kept per database; the least recently used goes first.
SIZE = 1024


class _Memory:
    def __init__(self) -> None:
        self.items: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()


_MEMORIES: WeakKeyDictionary[object, _Memory] = WeakKeyDictionary()
_GUARD = threading.Lock()


def remembered(db: object, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``'s answer for ``key`` in ``db``, read once while it is remembered.  The
    key must hold the case's version (see the module's docstring)."""
    with _GUARD:
        memory = _MEMORIES.get(db)
        if memory is None:
            memory = _MEMORIES[db] = _Memory()
    with memory.lock:
        if key in memory.items:
            memory.items.move_to_end(key)
            return memory.items[key]  # type: ignore[no-any-return]
    value = read()
    with memory.lock:
        memory.items[key] = value
        while len(memory.items) > SIZE:
            memory.items.popitem(last=False)
    return value


def finding_kinds(db: object, session: Any, findings: Any) -> dict[str, dict[str, Any]]:
    """The stored kinds of finding by name, read again only when one of ``findings``
    (rows with ``data``) names a kind this process has not read yet."""
    from cvdesk.store.portal import finding_kind_words

    def read() -> dict[str, dict[str, Any]]:
        return finding_kind_words(session)

    kinds = remembered(db, ("finding kinds",), read)
    if any(f.data.get("kind") not in kinds for f in findings if "kind" in f.data):
        kinds = read()
        with _GUARD:
            memory = _MEMORIES.get(db)
        if memory is not None:
            with memory.lock:
                memory.items[("finding kinds",)] = kinds
    return kinds
