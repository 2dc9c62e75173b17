"""A finding in two forms: its words for one time (``words``), and the form a sweep
stores (``facts``), in which evidence that counts days or hours keeps its pieces
(troubleshoot/timed.py) so that it does not change as the clock moves.  ``worded``
turns a stored form back into the words for the time it is read.

A cold sweep stores some hundred thousand findings, so ``facts_text`` writes the JSON
of the stored form from pieces it remembers (the actions and the roles concerned repeat
from one finding to the next); the text is the one ``json.dumps(facts(f))`` gives.
"""

from __future__ import annotations

import json
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity
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


# Remembered JSON of the actions and of the roles concerned, first by the tuple's identity
# (the rules keep most of theirs as constants), then by value.  Bounded: cleared when full.
_BY_ID: dict[int, tuple[object, str]] = {}
_BY_VALUE: dict[tuple[Any, ...], str] = {}
_LIMIT = 4096


def _remembered(items: tuple[Any, ...], make: Any) -> str:
    hit = _BY_ID.get(id(items))
    if hit is not None and hit[0] is items:
        return hit[1]
    text = _BY_VALUE.get(items)
    if text is None:
        if len(_BY_VALUE) >= _LIMIT:
            _BY_VALUE.clear()
        text = _BY_VALUE[items] = make(items)
    if len(_BY_ID) >= _LIMIT:
        _BY_ID.clear()
    _BY_ID[id(items)] = (items, text)  # holding the tuple keeps its id from being reused
    return text


def _actions_json(actions: tuple[Action, ...]) -> str:
    return json.dumps([{"role": a.role.value, "text": a.text} for a in actions])


def _concerns_json(concerns: tuple[Any, ...]) -> str:
    return json.dumps([r.value for r in concerns])


_SEVERITY = {s: f'"{s.label}", "severity_level": {int(s)}' for s in Severity}
_PHASE = {p: _enc(p.value) for p in Phase}


def facts_text(f: Finding) -> str:
    """``json.dumps(facts(f))``, written from remembered pieces."""
    evidence = ", ".join(e.json() if e.__class__ is Timed else _enc(e) for e in f.evidence)
    subject = f.subject
    return "".join((
        '{"problem": ', _enc(f.problem), ', "key": ', _enc(f.key),
        ', "title": ', _enc(f.title), ', "section": ', _enc(f.section),
        ', "severity": ', _SEVERITY[f.severity],
        ', "case_id": ', _enc(f.case_id), ', "phase": ', _PHASE[f.phase],
        ', "concerns": ', _remembered(f.concerns, _concerns_json),
        ', "subject": ', "null" if subject is None else str(int(subject)),
        ', "subject_name": ', _enc(f.subject_name),
        ', "evidence": [', evidence, '], "actions": ', _remembered(f.actions, _actions_json),
        "}"))
