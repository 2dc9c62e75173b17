"""Reading messages for trouble: legal threats, hostile tone, hype (guide 6.7-6.9).

Phrase lists, not a model: each hit names the phrase so a person can check
it.  A phrase preceded closely by a negation ("we will not take legal
action") or inside a safe-harbour statement does not count; that keeps a
vendor's promise not to sue from reading as a threat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cvdesk.domain.model import SignalKind

_LEGAL = [
    r"cease[\s-]+and[\s-]+desist", r"law\s?suits?", r"\bsue\b", r"\bsuing\b",
    r"legal action", r"legal steps", r"legal proceedings", r"litigat\w*", r"injunction",
    r"our (?:lawyers?|attorneys?|legal (?:team|department|counsel))",
    r"(?:hear|be hearing) from (?:our|my) (?:lawyers?|attorneys?)", r"\bDMCA\b",
    r"takedown notice", r"\bCFAA\b", r"computer fraud and abuse act", r"computer misuse act",
    r"202c", r"criminal (?:complaint|charges?)", r"press charges", r"prosecut\w*",
    r"report (?:you|this) to (?:the )?(?:police|law enforcement|fbi)",
    r"(?:breach|violation) of (?:our )?(?:terms|license|eula)", r"hold you (?:liable|responsible)",
    r"damages",
]
_HOSTILE = [
    r"\bincompetent\b", r"\bidiots?\b", r"\bstupid\b", r"\bclueless\b", r"\bliars?\b",
    r"shame on you", r"\bpathetic\b", r"\bridiculous\b", r"you people",
    r"wast(?:e|ing) (?:of )?my time", r"\bextort\w*", r"\bblackmail\w*", r"\bransom\b",
    r"pay (?:me|us) (?:or|before)", r"(?:last|final) warning", r"or else\b",
    r"\bdisgrace\w*", r"\bjoke of a\b", r"\bunprofessional\b",
]
_HYPE = [
    r"\bdubbed\b", r"\bwe (?:call|named|have named) it\b", r"\bbranded\b", r"\blogo\b",
    r"press release", r"\bjournalists?\b", r"\bpress (?:inquir\w+|coverage|asked)",
    r"media (?:inquir\w+|attention|coverage|storm)", r"\binterview\w*\b", r"\bwent viral\b",
    r"\btrending\b", r"\bheadlines?\b", r"\bnews (?:outlet|site|story|article)s?\b",
    r"black hat", r"def ?con", r"\bkeynote\b",
]
_NEGATION = re.compile(r"\b(?:no|not|never|won't|will not|don't|do not|without|nor|neither|"
                       r"zero|waive\w*)\b[^.!?\n]{0,12}$", re.IGNORECASE)
_SAFE_HARBOUR = re.compile(r"safe[\s-]?harbou?r|good[\s-]faith|authori[sz]ed research",
                           re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_PATTERNS = {SignalKind.LEGAL_THREAT: _compile(_LEGAL),
             SignalKind.HOSTILE_TONE: _compile(_HOSTILE),
             SignalKind.HYPE: _compile(_HYPE)}


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def analyze(text: str) -> dict[str, list[str]]:
    """Kinds of trouble found in a message, each with the phrases that showed it."""
    found: dict[str, list[str]] = {}
    # Quoted lines of an earlier message are that message's words, not this one's.
    own = "\n".join(line for line in text.splitlines() if not _quoted(line))
    for sentence in _SENTENCE.findall(own):
        for kind, pattern in _PATTERNS.items():
            for match in pattern.finditer(sentence):
                before = sentence[:match.start()]
                if _NEGATION.search(before):
                    continue
                if kind is SignalKind.LEGAL_THREAT and _SAFE_HARBOUR.search(sentence):
                    continue
                phrase = match.group(0).lower()
                hits = found.setdefault(kind.value, [])
                if phrase not in hits:
                    hits.append(phrase)
    if _shouting(own):
        found.setdefault(SignalKind.HOSTILE_TONE.value, []).append("shouting (capitals/!!!)")
    return found


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    caps = sum(1 for c in letters if c.isupper())
    return "!!!" in text or (len(letters) >= 40 and caps / len(letters) > 0.6)
