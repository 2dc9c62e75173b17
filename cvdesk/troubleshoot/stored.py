"""A finding in two forms: its words for one time (``words``), and the form a sweep
stores (``facts``), in which evidence that counts days or hours keeps its pieces
(troubleshoot/timed.py) so that it does not change as the clock moves.  ``worded``
turns a stored form back into the words for the time it is read.

A cold sweep stores some hundred thousand findings, so ``facts_text`` writes the JSON
of the stored form around the fixed parts it keeps per kind of finding (the actions and
the roles concerned repeat from one finding to the next); the text is the one
``json.dumps(facts(f))`` gives, which a test checks.
"""

from __future__ import annotations

import json
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from cvdesk.troubleshoot.finding import Finding, Severity
from cvdesk.troubleshoot.timed import Timed, render, stored

_enc: Any = encode_basestring_ascii  # what json.dumps uses for text (ensure_ascii)


def words(f: Finding) -> dict[str, Any]:
    """The finding as the rule worded it."""
    return {"problem": f.problem, "key": f.key, "title": f.title, "section": f.section,
            "severity": f.severity.label, "severity_level": int(f.severity),
            "case_id": f.case_id, "phase": f.phase.value,
            "concerns": [r.value for r in f.concerns], "subject": f.subject,
            "subject_name": f.subject_name,
            "evidence": [e if e.__class__ is str else str(e) for e in f.evidence],
            "actions": [{"role": a.role.value, "text": a.text} for a in f.actions]}


def facts(f: Finding) -> dict[str, Any]:
    """The finding as a sweep stores it: ``words`` with time-counting evidence as pieces."""
    data = words(f)
    data["evidence"] = [stored(e) for e in f.evidence]
    return data


def worded(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A stored finding (``facts``, or words stored by an older sweep) worded for ``now``."""
    return {**data, "evidence": render(data["evidence"], now)}


# The JSON of a finding is the text of its kind (problem, section, severity, phase, roles
# concerned, actions: the parts that repeat from one finding to the next) with the parts
# that vary in between.  The kinds are found first by the identity of the roles and
# actions tuples (the rules keep most as constants), then by value.  Bounded: cleared when
# full.
_BY_ID: dict[tuple[Any, ...], tuple[tuple[str, ...], object, object]] = {}
_BY_VALUE: dict[tuple[Any, ...], tuple[str, ...]] = {}
_LIMIT = 4096

_SEVERITY = {s: f'"{s.label}", "severity_level": {int(s)}' for s in Severity}


def _kind(f: Finding) -> tuple[str, ...]:
    """The seven fixed parts of the JSON of ``f``, around key, title, case id, subject,
    subject name and evidence."""
    concerns, actions = f.concerns, f.actions
    by_id = (f.problem, f.section, f.severity, f.phase, id(concerns), id(actions))
    hit = _BY_ID.get(by_id)
    if hit is not None and hit[1] is concerns and hit[2] is actions:
        return hit[0]
    by_value = (f.problem, f.section, f.severity, f.phase, concerns, actions)
    parts = _BY_VALUE.get(by_value)
    if parts is None:
        if len(_BY_VALUE) >= _LIMIT:
            _BY_VALUE.clear()
        parts = _BY_VALUE[by_value] = (
            '{"problem": ' + _enc(f.problem) + ', "key": ',
            ', "title": ',
            ', "section": ' + _enc(f.section) + ', "severity": ' + _SEVERITY[f.severity]
            + ', "case_id": ',
            ', "phase": ' + _enc(f.phase.value) + ', "concerns": '
            + json.dumps([r.value for r in concerns]) + ', "subject": ',
            ', "subject_name": ',
            ', "evidence": [',
            '], "actions": '
            + json.dumps([{"role": a.role.value, "text": a.text} for a in actions]) + "}")
    if len(_BY_ID) >= _LIMIT:
        _BY_ID.clear()
    _BY_ID[by_id] = (parts, concerns, actions)  # holding the tuples keeps their ids unused
    return parts


def facts_text(f: Finding) -> str:
    """``json.dumps(facts(f))``, written from the parts of its kind."""
    a, b, c, d, e, g, h = _kind(f)
    subject = f.subject
    return "".join((
        a, _enc(f.key), b, _enc(f.title), c, _enc(f.case_id), d,
        "null" if subject is None else str(int(subject)), e, _enc(f.subject_name), g,
        ", ".join([x.json() if x.__class__ is Timed else _enc(x) for x in f.evidence]), h))
