"""Offline validation of a CSAF 2.0 or 2.1 document: the JSON schema and the mandatory
tests (section 6.1 of either version), both from the ``csaf`` package, which ships the
OASIS schemas, the CVSS schemas they reference and the CWE catalog, so nothing is fetched.

The writer runs this on every document before it is returned: a document that fails is
never handed out (issue 10: "schema and mandatory tests of the csaf package pass").
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

#: the CSAF versions this module can check.  For 2.1 the csaf package follows the OASIS
#: draft stage it names in ``csaf.csaf.v21.SPEC_STAGE`` (csd04 in the pinned release).
SUPPORTED = ("2.0", "2.1")
_MODULES = {"2.0": "csaf.csaf.v20", "2.1": "csaf.csaf.v21"}
# csaf.csaf.v21 re-exports the builder but not ``validate``; the package's top-level
# ``csaf.validate`` is the same function, but names no version (it moves with the
# package's default), so the versioned module is named here
_VALIDATORS = {"2.0": "csaf.csaf.v20", "2.1": "csaf.csaf.v21._validator"}


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
def _validator(version: str = "2.0") -> Callable[..., Any]:
    with _quiet_import():
        module = importlib.import_module(_VALIDATORS[version])
    return module.validate  # type: ignore[no-any-return]


def spec_stage() -> str:
    """The OASIS stage of CSAF 2.1 the csaf package implements (e.g. "csd04")."""
    with _quiet_import():
        from csaf.csaf.v21 import SPEC_STAGE
    return str(SPEC_STAGE)


def cwe_name(cwe_id: str) -> str | None:
    """The weakness's name in the CWE catalog that test 6.1.11 checks against."""
    with _quiet_import():
        from csaf import cwe_entry
    try:
        return str(cwe_entry(cwe_id).name)
    except ValueError:
        return None


def cwe_entry21(cwe_id: str) -> dict[str, str] | None:
    """The CSAF 2.1 ``cwes`` item (id, name, catalog version) the 2.1 builder gives,
    or None when the catalog does not know the weakness."""
    with _quiet_import():
        from csaf.csaf.v21 import cwe_entry
    try:
        entry = cwe_entry(cwe_id)
    except ValueError:
        return None
    return {"id": str(entry.id), "name": str(entry.name), "version": str(entry.version)}


def cvss40(vector: str) -> dict[str, Any]:
    """The CVSS v4.0 JSON object for ``vector``, from the csaf package's calculator;
    ValueError when the vector does not parse."""
    with _quiet_import():
        from csaf.csaf.v21 import cvss40_from_vector
    return dict(cvss40_from_vector(vector))


def problems(doc: dict[str, Any], *, only: frozenset[str] = frozenset(),
             schema: bool = True, version: str | None = None) -> list[str]:
    """Every schema error and failed mandatory test, as "<test> <title>: <where>: <what>".

    ``version`` is the CSAF version to check against; by default the one the document
    names in ``document.csaf_version`` (2.0 when it names none).  ``only`` limits the run
    to some tests (by their section number, e.g. "6.1.6"), and ``schema=False`` skips the
    schema, for tests that check one rule on a document the schema alone would already
    refuse; the writer always runs everything."""
    if version is None:
        named = doc.get("document", {}).get("csaf_version") if isinstance(doc, dict) else None
        version = named if named in SUPPORTED else "2.0"
    report = _validator(version)(doc, preset="basic",
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


def mandatory_test_ids(version: str = "2.0") -> list[str]:
    """The mandatory tests the csaf package runs (section 6.1), for the tests' coverage."""
    _validator(version)
    registry = importlib.import_module(_MODULES[version] + ".rules._registry")
    return sorted((i for i in registry.all_rules() if i.startswith("6.1.")),
                  key=lambda i: tuple(int(p) for p in i.split(".")))
