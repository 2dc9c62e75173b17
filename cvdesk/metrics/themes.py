"""Recurring themes of retrospectives, per troubleshooting problem (guide 6.9: "learn from
it"; issue 12).

Each case's retrospective is joined with the problems its findings raised.  From what
went wrong and what to do differently, the content words (lower case, stopwords and
words under three letters left out) and the pairs of content words written next to each
other are taken, once per case.  A theme recurs for a problem when it appears in the
retrospectives of two or more cases that raised that problem.  A single word is not
shown when a pair holding it was found in exactly the same cases (the pair says more).
Cases whose findings raised nothing are grouped under ``NO_PROBLEM``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

NO_PROBLEM = "no-finding"
MIN_CASES = 2

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each either
else even ever every few for from further get got had has have having he her here hers him
his how however i if in into is it its itself just least less let like made make many may
me might more most much must my no nor not now of off on once only or other our ours out
over own per quite rather really same shall she should since so some still such than that
the their theirs them then there these they this those though through thus to too under
until up upon us very via was we well were what when where whether which while who whom
whose why will with within without would yet you your yours next time times again one two
went wrong differently way ways thing things lot lots
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*[a-z0-9]|[a-z0-9]")


@dataclass(frozen=True, slots=True)
class RetroRecord:
    case_id: str
    problems: tuple[str, ...]
    went_wrong: str
    do_differently: str


@dataclass(frozen=True, slots=True)
class Theme:
    problem: str
    term: str
    cases: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.cases)

    def to_json(self) -> dict[str, Any]:
        return {"problem": self.problem, "theme": self.term, "count": self.count,
                "cases": list(self.cases)}


def _content(word: str) -> bool:
    return len(word) >= 3 and word not in STOPWORDS and not word.isdigit()


def content_words(text: str) -> list[str]:
    """The words that carry meaning, in order."""
    return [w for w in _WORD.findall(text.lower().replace("\u2019", "'")) if _content(w)]


def terms(text: str) -> set[str]:
    """Content words, and pairs of content words written next to each other (no word
    between them, within one sentence or clause)."""
    found: set[str] = set()
    for part in re.split(r"[.;:!?,()\n]+", text):
        words = _WORD.findall(part.lower().replace("\u2019", "'"))
        found.update(w for w in words if _content(w))
        found.update(f"{a} {b}" for a, b in pairwise(words)
                     if a != b and _content(a) and _content(b))
    return found


def recurring_themes(retros: Iterable[RetroRecord], *, problem: str | None = None,
                     min_cases: int = MIN_CASES) -> tuple[Theme, ...]:
    """Themes found in ``min_cases`` or more cases per problem: by problem, then most
    cases first, then pairs before words, then alphabetically."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in retros:
        found = terms(f"{r.went_wrong}\n{r.do_differently}")
        for p in r.problems or (NO_PROBLEM,):
            if problem is not None and p != problem:
                continue
            for term in found:
                seen[p][term].add(r.case_id)
    themes: list[Theme] = []
    for p in sorted(seen):
        recurring = {t: frozenset(c) for t, c in seen[p].items() if len(c) >= min_cases}
        pairs = [t for t in recurring if " " in t]
        for term, cases in recurring.items():
            if " " not in term and any(recurring[x] == cases and term in x.split()
                                       for x in pairs):
                continue
            themes.append(Theme(p, term, tuple(sorted(cases))))
    themes.sort(key=lambda t: (t.problem, -t.count, " " not in t.term, t.term))
    return tuple(themes)
