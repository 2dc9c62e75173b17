"""The troubleshooting sweep.

``sweep`` is incremental and stored: it asks the rules only about open cases
whose log changed since the last sweep or whose next check time has come
(``cases.needs_sweep`` / ``cases.next_check_at``), records the findings
(de-duplicated by key, resolved when their cause goes away) and re-arms each
case's next check.  ``preview`` judges cases as of any time, from their logs,
and stores nothing (time travel).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from cvdesk.domain.case import Case
from cvdesk.domain.checks import choose
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import CaseStatus, check_aware
from cvdesk.services.cases import utcnow
from cvdesk.services.collector import collector_paused
from cvdesk.services.progress import Progress, quiet
from cvdesk.services.views import ShownFinding, SweepResult
from cvdesk.settings import Settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.findings import (
    ACKNOWLEDGED,
    OPEN,
    SNOOZED,
    CaseOutcome,
    FindingRepository,
    Stored,
    from_micros,
    json_text,
    micros,
    read_rule_checks,
    rule_checks_text,
)
from cvdesk.store.snapshot import DUE_COLUMNS, swept_cases
from cvdesk.troubleshoot import RULES, Diagnosis, Finding, diagnose
from cvdesk.troubleshoot.engine import rules_fingerprint
from cvdesk.troubleshoot.rules import CASE_RULES, PARTICIPANT_RULES
from cvdesk.troubleshoot.stored import facts, same_facts, short_text, worded, words

#: Cases judged and stored at a time; their rows, participants and findings are held
#: meanwhile (about 30 KiB a case: a cold sweep's peak memory went from about 85 MiB
#: at 500 to about 225 MiB).  5,000 measured a few per cent faster in cold sweeps of
#: 20,000 cases than 500 (issue 9).
BATCH = 5000
_NEEDS_SWEEP, _RULE_CHECKS = DUE_COLUMNS.index("needs_sweep"), DUE_COLUMNS.index("rule_checks")


class FindingAction(StrEnum):
    """What a person may do with a finding; each value is the status it leaves behind,
    so every face names the same two actions."""

    ACKNOWLEDGE = ACKNOWLEDGED
    SNOOZE = SNOOZED


def finding_data(f: Finding) -> dict[str, Any]:
    """A finding's words (``data`` of ``ShownFinding``)."""
    return words(f)


def stored_text(f: Finding, kinds: dict[str, str]) -> str:
    """The JSON text a sweep stores for ``f``: the short form, which names its kind (added
    to ``kinds``) and keeps the facts that vary (see troubleshoot/stored.py); a finding
    whose words hold a NUL is stored whole, NUL replaced as the data column would."""
    text = short_text(f, kinds)
    return json_text(facts(f)) if "\\u0000" in text else text


class _Plan:
    """What a sweep asks about a case due by the clock alone: the rules whose check has
    come (``rules``), and the participants it reads (``pids``; None for all of them)."""

    __slots__ = ("checks", "pids", "rules", "whole")

    def __init__(self, checks: dict[str, int], rules: set[str], whole: set[str],
                 pids: set[int] | None) -> None:
        self.checks, self.rules, self.whole, self.pids = checks, rules, whole, pids

    def judges(self, participants: Mapping[int, Any]) -> Callable[[str], bool]:
        """Whether a finding or check (by key) is one this sweep's answer replaces: every
        one of a rule asked about the whole case, and those about the participants read
        of a rule asked about some of them."""
        whole, rules = self.whole, self.rules
        if self.pids is None:
            return lambda key: key.partition(":")[0] in rules
        read = {f"p{pid}" for pid in participants}

        def judged(key: str) -> bool:
            rule, _, subject = key.partition(":")
            return rule in whole or (rule in rules and subject in read)
        return judged


def _plan(checks: dict[str, int], now_us: int) -> _Plan | None:
    """The plan for a case whose stored checks are ``checks`` (None: ask every rule)."""
    whole: set[str] = set()  # rules due about the whole case
    pids: set[int] = set()
    rules: set[str] = set()
    for key, at in checks.items():
        if at > now_us:
            continue
        rule, _, subject = key.partition(":")
        if rule not in RULES:
            return None
        rules.add(rule)
        if not subject:
            whole.add(rule)
        elif rule in PARTICIPANT_RULES and subject[:1] == "p" and subject[1:].isdigit():
            pids.add(int(subject[1:]))
        else:
            return None
    if any(rule not in CASE_RULES for rule in whole):
        return _Plan(checks, rules, rules, None)  # read every participant: ask rules whole
    return _Plan(checks, rules, whole, pids)


class DoctorService:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def sweep(self, *, case_id: str | None = None, show_handled: bool = False,
              progress: Progress = quiet) -> SweepResult:
        now = self.clock()
        swept = self.run_sweep(now, case_id=case_id, progress=progress)
        return self.current(at=now, swept=swept, case_id=case_id, show_handled=show_handled)

    def run_sweep(self, now: datetime, *, case_id: str | None = None,
                  progress: Progress = quiet) -> int:
        """Re-check the due cases and store their findings; returns how many were checked.
        ``progress`` hears (cases checked, cases due) after each batch of a whole sweep."""
        swept = 0
        fingerprint = rules_fingerprint(self.settings.policy)
        with collector_paused(), self.db.transaction() as session:
            repo = FindingRepository(session)
            if case_id:
                CaseRepository(session).case_row(case_id)  # NotFound for an unknown case
            total = repo.due_count(now) if progress is not quiet and not case_id else 0
            progress(0, total)
            after = 0
            while True:
                due = repo.due_cases(now, case_id, limit=BATCH, after=after)
                if not due:
                    break
                swept += self._sweep_batch(repo, due, now, fingerprint)
                session.flush()
                progress(swept, max(total, swept))
                if case_id:
                    break
                after = due[-1][0]
                gc.collect(1)  # the young generations only: cheap, and frees any cycles
        return swept

    def _sweep_batch(self, repo: FindingRepository, due: Sequence[Any], now: datetime,
                     fingerprint: str) -> int:
        """Judge a batch of due cases (rows of ``snapshot.DUE_COLUMNS``) and store the
        outcome.  Each finding goes to the store as its JSON text with its problem and
        severity, so that the store compares and writes without looking inside.

        A case whose log changed is asked by every rule.  A case due by the clock alone
        is asked only by the rules whose own check has come, as the last sweep stored
        them (``Diagnosis.checks``): what a rule finds stays the same until its check, so
        the other rules' stored findings stand and are neither read in full nor
        compared.  Such a case is read without its participants when only rules of the
        case's own state are due, and with only the participants whose time has come
        when the rules due judge each participant on its own."""
        pks = [row[0] for row in due]
        now_us = micros(now)
        plans: dict[int, _Plan] = {}  # the cases asked in part
        for row in due:
            if not row[_NEEDS_SWEEP]:
                checks = read_rule_checks(row[_RULE_CHECKS], fingerprint)
                if checks is not None:
                    plan = _plan(checks, now_us)
                    if plan is not None:
                        plans[row[0]] = plan
        existing = repo.unresolved_of(pks, {pk: plan.rules for pk, plan in plans.items()})
        # A snooze that has ended wakes its finding up: such a case is asked in full.
        woke = [pk for pk in plans if any(
            r.status == SNOOZED and r.snoozed_until is not None and r.snoozed_until <= now
            for r in existing[pk].values())]
        for pk in woke:
            del plans[pk]
        if woke:
            existing.update(repo.unresolved_of(woke))
        # Each case is made with its participants as the loop reaches it, and freed after
        # its judgement (snapshot.swept_cases).
        cases = swept_cases(repo.session, due, {
            pk: plan.pids for pk, plan in plans.items() if plan.pids is not None})
        policy = self.settings.policy
        verdicts = []
        kinds: dict[str, str] = {}
        for case, pk in zip(cases, pks, strict=True):
            plan = plans.get(pk)
            rows: dict[str, Stored] = existing[pk]
            others: list[Stored] = []
            if plan is None:
                diagnosis = diagnose(case, policy, now)
                next_check = diagnosis.next_check
                checks = {name: micros(at) for name, at in diagnosis.checks.items()}
            else:
                diagnosis = diagnose(case, policy, now,
                                     {name: RULES[name] for name in plan.rules})
                judged = plan.judges(case.participants)
                checks = {key: at for key, at in plan.checks.items() if not judged(key)}
                checks.update((key, micros(at)) for key, at in diagnosis.checks.items())
                next_check = from_micros(min(checks.values())) if checks else None
                kept, rows = rows, {}
                for key, row in kept.items():
                    if judged(key):
                        rows[key] = row
                    else:
                        others.append(row)
            stored: dict[str, tuple[str, int, str]] = {}
            for f in diagnosis.findings:  # stored_text, written out: a few hundred thousand
                text = short_text(f, kinds)
                if "\\u0000" in text:
                    text = json_text(facts(f))
                # ``_value_``: the member's own attribute; ``.value`` goes through a property.
                stored[f.key] = (f.problem, f.severity._value_, text)
            verdicts.append(CaseOutcome(
                pk, case.seq, stored,
                next_check, rows, others, rule_checks_text(fingerprint, checks)))
        repo.record_batch(verdicts, now, kinds,
                          lambda stored, text: same_facts(stored, text, kinds))
        return len(due)

    def current(self, *, at: datetime, swept: int = 0, case_id: str | None = None,
                show_handled: bool = False) -> SweepResult:
        statuses = (OPEN, ACKNOWLEDGED, SNOOZED) if show_handled else (OPEN,)
        with self.db.sessions() as session:
            if case_id:  # a case that does not exist is named, not shown as "no finding"
                CaseRepository(session).case_row(case_id)
            repo = FindingRepository(session)
            rows = repo.listing(statuses=statuses, case_id=case_id)
            kinds = repo.kinds()
            # Stored facts are worded for the time asked about: a count of days is as of
            # ``at``, not as of the sweep that last wrote the finding.
            shown = tuple(ShownFinding(f.id, c.case_id, c.title, f.status,
                                       worded(f.data, at, kinds),
                                       f.first_seen_at, f.snoozed_until, f.handled_reason)
                          for f, c in rows)
            cases = CaseRepository(session).list_cases("open")
            checks = {c.case_id: c.next_check_at for c in cases
                      if not case_id or c.case_id == case_id.upper()}
        return SweepResult(at, swept, len(checks), shown, checks)

    def preview(self, *, at: datetime, case_id: str | None = None) -> SweepResult:
        """Judge the cases that were open at ``at``, as their logs say they were then,
        closed-since ones included; stores nothing."""
        check_aware(at, "at")
        shown: list[ShownFinding] = []
        checks: dict[str, datetime | None] = {}
        with self.db.sessions() as session:
            repo = CaseRepository(session)
            rows = [repo.case_row(case_id)] if case_id else [
                r for r in repo.list_cases(None) if r.opened_at <= at]
            for row in rows:
                events = [e for e in repo.events(row.id) if e.at <= at]
                if not events:
                    continue
                case = Case.replay(row.case_id, events)
                if case.status is not CaseStatus.OPEN:  # closed as of ``at``: not judged
                    continue
                diagnosis: Diagnosis = diagnose(case, self.settings.policy, at)
                checks[row.case_id] = diagnosis.next_check
                shown.extend(ShownFinding(None, row.case_id, row.title, "preview",
                                          finding_data(f)) for f in diagnosis.findings)
        shown.sort(key=lambda s: (-s.data["severity_level"], s.case_id, s.data["key"]))
        return SweepResult(at, len(checks), len(checks), tuple(shown), checks)

    def handle(self, finding_id: int, action: FindingAction | str, *, reason: str, actor: str,
               until: datetime | None = None) -> ShownFinding:
        """Acknowledge a finding, or snooze it until a time; the reason is kept."""
        action = choose([a.value for a in FindingAction], str(action), "action",
                        "finding action")
        if action == SNOOZED:
            if until is None:
                raise InvalidInput("until", "a snooze needs an end time")
            check_aware(until, "until")
            if until <= self.clock():
                raise InvalidInput("until", f"{until.isoformat()} is not in the future")
        with self.db.transaction() as session:
            repo = FindingRepository(session)
            row = repo.handle(finding_id, action, actor=actor, reason=reason, until=until)
            data = worded(row.data, self.clock(), repo.kinds())
            return ShownFinding(row.id, data["case_id"], "", row.status, data,
                                row.first_seen_at, row.snoozed_until, row.handled_reason)
