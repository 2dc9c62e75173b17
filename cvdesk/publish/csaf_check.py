"""Offline validation of a CSAF 2.0 document: the JSON schema and the mandatory tests
(CSAF 2.0 section 6.1), both from the ``csaf`` package, which ships the OASIS schema,
the CVSS schemas it references and the CWE catalog, so nothing is fetched.

The writer runs this on every document before it is returned: a document that fails is
never handed out (issue 10: "schema and mandatory tests of the csaf package pass").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

#: the CSAF versions this module can check; 2.1 is still an OASIS committee draft
SUPPORTED = ("2.0",)


@contextmanager
def _quiet_import() -> Iterator[None]:
    """Importing ``csaf`` calls ``logging.basicConfig`` (a handler on the root logger),
    which would change what cvdesk's own commands print; the root logger is put back
    as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@cache
def _validator() -> Callable[..., Any]:
    with _quiet_import():
        from csaf.csaf.v20 import validate
    return validate


def cwe_name(cwe_id: str) -> str | None:
    """The weakness's name in the CWE catalog that test 6.1.11 checks against."""
    with _quiet_import():
        from csaf import cwe_entry
    try:
        return str(cwe_entry(cwe_id).name)
    except ValueError:
        return None


def problems(doc: dict[str, Any], *, only: frozenset[str] = frozenset(),
             schema: bool = True) -> list[str]:
    """Every schema error and failed mandatory test, as "<test> <title>: <where>: <what>".

    ``only`` limits the run to some tests (by their section number, e.g. "6.1.6"), and
    ``schema=False`` skips the schema, for tests that check one rule on a document the
    schema alone would already refuse; the writer always runs everything."""
    report = _validator()(doc, preset="basic",
                          only_rules=only | {"schema"} if only else frozenset(),
                          skip_rules=frozenset() if schema else frozenset({"schema"}))
    out = []
    for result in report.results:
        if result.passed or result.skipped or result.group == "informative":
            continue
        if not result.errors:
            out.append(f"{result.id} {result.title}: failed")
        for err in result.errors:
            where = err.instance_path or "/"
            out.append(f"{result.id} {result.title}: {where}: {err.message}")
    return out


def mandatory_test_ids() -> list[str]:
    """The mandatory tests the csaf package runs (section 6.1), for the tests' coverage."""
    _validator()
    from csaf.csaf.v20.rules._registry import all_rules

    return sorted((i for i in all_rules() if i.startswith("6.1.")),
                  key=lambda i: tuple(int(p) for p in i.split(".")))
