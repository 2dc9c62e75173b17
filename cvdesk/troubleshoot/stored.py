"""A finding in two forms: its words for one time (``words``), and the form a sweep
stores (``facts``), in which evidence that counts days or hours keeps its pieces
(troubleshoot/timed.py) so that it does not change as the clock moves.  ``worded``
turns a stored form back into the words for the time it is read.

A cold sweep stores some hundred thousand findings, so ``facts_text`` writes the JSON
of the stored form around the fixed parts it keeps per kind of finding (the actions and
the roles concerned repeat from one finding to the next); the text is the one
``json.dumps(facts(f))`` gives, which a test checks.  What a sweep stores is shorter
still (``short_text``): the name of the finding's kind, whose fixed words the store keeps
once (``finding_kinds``), and the parts that vary, without the key (the kind's problem
and the subject give it back) and with the evidence's pieces short (timed.py
``Timed.compact``); ``whole`` puts the two together again, from this form and from the
one sweeps stored before it (with the key, pieces as ``facts`` gives them).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from cvdesk.troubleshoot.finding import Finding, Severity
from cvdesk.troubleshoot.timed import Timed, item_facts, render, stored

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


def worded(data: dict[str, Any], now: datetime,
           kinds: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A stored finding worded for ``now``: the short form a sweep stores (``short_text``,
    its fixed parts found in ``kinds``), or the whole ``facts`` (or words) that older
    sweeps stored."""
    kind = data.get("kind")
    if kind is not None:
        if kinds is None or kind not in kinds:
            raise LookupError(f"finding kind {kind!r} is not stored")
        data = _joined(data, kinds[kind], data["evidence"])
    return {**data, "evidence": render(data["evidence"], now)}


def same_facts(stored: Any, text: str, kinds: dict[str, str]) -> bool:
    """Whether a finding stored in an older form (whole, by a sweep before findings were
    stored short, or in the first short form, with its key and the evidence's pieces as
    ``facts`` gives them) says what the short form ``text`` says with the words of its
    kind (``kinds``: JSON texts by name).  ``stored`` is read untyped: text on SQLite,
    parsed on PostgreSQL."""
    if stored.__class__ is str:
        if stored.startswith('{"kind":"'):  # the current short form: it differs
            return False
        stored = json.loads(stored)
    short = json.loads(text)
    name = short.get("kind")
    kind = kinds.get(name) if name is not None else None
    if kind is None or "key" in short or stored.__class__ is not dict:
        return False
    words = json.loads(kind)
    if "kind" in stored:
        if stored["kind"] != name or "key" not in stored:
            return False
        stored = whole(stored, words)
    return stored == whole(short, words)  # type: ignore[no-any-return]


def whole(short: dict[str, Any], kind: dict[str, Any]) -> dict[str, Any]:
    """A stored short form with the fixed parts of its kind: the ``facts`` it stands for,
    keys in the same order."""
    return _joined(short, kind, [item_facts(e) for e in short["evidence"]])


def _joined(short: dict[str, Any], kind: dict[str, Any], evidence: list[Any],
            ) -> dict[str, Any]:
    problem, subject = kind["problem"], short["subject"]
    key = short.get("key") or (f"{problem}:-" if subject is None else f"{problem}:p{subject}")
    return {"problem": problem, "key": key, "title": short["title"],
            "section": kind["section"], "severity": kind["severity"],
            "severity_level": kind["severity_level"], "case_id": short["case_id"],
            "phase": kind["phase"], "concerns": kind["concerns"],
            "subject": subject, "subject_name": short["subject_name"],
            "evidence": evidence, "actions": kind["actions"]}


# The JSON of a finding is the text of its kind (problem, section, severity, phase, roles
# concerned, actions: the parts that repeat from one finding to the next) with the parts
# that vary in between.  The kinds are found first by the identity of the roles and
# actions tuples (the rules keep most as constants), then by value.  Bounded: cleared when
# full.
_BY_ID: dict[tuple[Any, ...], tuple[tuple[str, ...], object, object]] = {}
_BY_VALUE: dict[tuple[Any, ...], tuple[str, ...]] = {}
_LIMIT = 4096

_SEVERITY = {s: f'"{s.label}", "severity_level": {int(s)}' for s in Severity}
#: The kind found last (problem, section, severity, phase, concerns, actions, parts).
_LAST_KIND: list[Any] = [None] * 7


def _kind(f: Finding) -> tuple[str, ...]:
    """The seven fixed parts of the JSON of ``f``, around key, title, case id, subject,
    subject name and evidence; then the name of its kind, the kind's JSON and the start
    of the short form (see ``short_text``)."""
    concerns, actions = f.concerns, f.actions
    last = _LAST_KIND  # a sweep hands over a case's findings grouped by kind
    if (concerns is last[4] and actions is last[5] and f.severity is last[2]
            and f.phase is last[3] and f.problem == last[0] and f.section == last[1]):
        return last[6]  # type: ignore[no-any-return]
    by_id = (f.problem, f.section, f.severity, f.phase, id(concerns), id(actions))
    hit = _BY_ID.get(by_id)
    if hit is not None and hit[1] is concerns and hit[2] is actions:
        last[:] = (f.problem, f.section, f.severity, f.phase, concerns, actions, hit[0])
        return hit[0]
    by_value = (f.problem, f.section, f.severity, f.phase, concerns, actions)
    parts = _BY_VALUE.get(by_value)
    if parts is None:
        if len(_BY_VALUE) >= _LIMIT:
            _BY_VALUE.clear()
        concerns_json = json.dumps([r.value for r in concerns])
        actions_json = json.dumps([{"role": a.role.value, "text": a.text} for a in actions])
        kind = ('{"problem": ' + _enc(f.problem) + ', "section": ' + _enc(f.section)
                + ', "severity": ' + _SEVERITY[f.severity] + ', "phase": '
                + _enc(f.phase.value) + ', "concerns": ' + concerns_json + ', "actions": '
                + actions_json + "}")
        # A kind is named by its problem and a digest of its words: the same words give the
        # same name in every version, changed words a new one (older rows keep theirs).
        name = f"{f.problem}.{hashlib.sha256(kind.encode()).hexdigest()[:12]}"
        parts = _BY_VALUE[by_value] = (
            '{"problem": ' + _enc(f.problem) + ', "key": ',
            ', "title": ',
            ', "section": ' + _enc(f.section) + ', "severity": ' + _SEVERITY[f.severity]
            + ', "case_id": ',
            ', "phase": ' + _enc(f.phase.value) + ', "concerns": '
            + concerns_json + ', "subject": ',
            ', "subject_name": ',
            ', "evidence": [',
            '], "actions": ' + actions_json + "}",
            # the short form: the kind's name, then the parts that vary
            "" if "\\u0000" in kind else name, kind,
            '{"kind":' + _enc(name) + ',"title":')
    if len(_BY_ID) >= _LIMIT:
        _BY_ID.clear()
    _BY_ID[by_id] = (parts, concerns, actions)  # holding the tuples keeps their ids unused
    last[:] = (f.problem, f.section, f.severity, f.phase, concerns, actions, parts)
    return parts


def facts_text(f: Finding) -> str:
    """``json.dumps(facts(f))``, written from the parts of its kind."""
    a, b, c, d, e, g, h = _kind(f)[:7]
    subject = f.subject
    return "".join((
        a, _enc(f.key), b, _enc(f.title), c, _enc(f.case_id), d,
        "null" if subject is None else str(int(subject)), e, _enc(f.subject_name), g,
        ", ".join([x.json() if x.__class__ is Timed else _enc(x) for x in f.evidence]), h))


def short_text(f: Finding, kinds: dict[str, str]) -> str:
    """The short form a sweep stores for ``f``: the name of its kind (problem, section,
    severity, phase, roles concerned, actions: about three quarters of the text) and
    the parts that vary but the key, as JSON without spaces, the evidence's pieces short
    (``Timed.compact``); the kind's name and JSON are added to ``kinds`` (to be stored
    once).  ``whole`` gives back ``facts(f)``.  A kind whose words hold a NUL (which the
    database would replace) is not named: ``f`` is then written whole."""
    parts = _kind(f)
    name = parts[7]
    if not name:
        return facts_text(f)
    kinds[name] = parts[8]
    subject = f.subject
    case_id, last = f.case_id, _LAST_TEXT
    if case_id is not last[0]:
        last[0], last[1] = case_id, _enc(case_id)
    return "".join((
        parts[9], _enc(f.title), ',"case_id":', last[1], ',"subject":',
        "null" if subject is None else str(int(subject)), ',"subject_name":',
        _enc(f.subject_name), ',"evidence":', _evidence(f.evidence), "}"))


# The JSON of the last case id and evidence tuple written: the findings of one case follow
# one another, and share its id; the vendors of a case that were added together share one
# evidence tuple (vendor-not-notified).  Held by the object, compared by identity.
_LAST_TEXT: list[Any] = [None, ""]
_LAST_EVIDENCE: list[Any] = [None, ""]


def _evidence(items: tuple[str, ...]) -> str:
    last = _LAST_EVIDENCE
    if items is last[0]:
        return last[1]  # type: ignore[no-any-return]
    text = "[" + ",".join([
        x.compact() if x.__class__ is Timed else _enc(x)  # type: ignore[attr-defined]
        for x in items]) + "]"
    if items.__class__ is tuple:
        last[0], last[1] = items, text
    return text
