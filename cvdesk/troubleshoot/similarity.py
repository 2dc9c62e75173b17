"""Does a new report describe a vulnerability that an open case already tracks? (guide 6.5)

Two signals: the same product (vendor and product names, or purl/CPE), and
similar wording (cosine similarity of word counts of title and description).
A match is a prompt for a person to check real independence, never a merge.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from cvdesk.domain.model import Report

_WORD = re.compile(r"[a-z0-9][a-z0-9_.+-]*[a-z0-9]|[a-z0-9]")
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
    "into", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were",
    "will", "with", "via", "when", "which", "who", "can", "could", "may", "not", "no",
    "all", "any", "our", "your", "their", "they", "them", "we", "you", "i", "he", "she",
    "vulnerability", "vulnerable", "issue", "bug", "found",
})
#: Word similarity at or above which two reports of the same product match.
SAME_PRODUCT_THRESHOLD = 0.25
#: Word similarity at or above which two reports match even without a product in common.
TEXT_ONLY_THRESHOLD = 0.6


@dataclass(frozen=True)
class Fingerprint:
    products: frozenset[str]
    words: Counter[str]


@dataclass(frozen=True)
class Match:
    score: float
    same_product: str
    text_similarity: float


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def fingerprint(report: Report) -> Fingerprint:
    products: set[str] = set()
    for p in [*report.products, *(a for v in report.vulnerabilities for a in v.affected)]:
        if p.purl:
            products.add(p.purl.split("@")[0].lower())
        if p.cpe:
            products.add(":".join(p.cpe.lower().split(":")[3:5]))
        # The bare product name too: reporters spell vendors differently ("Contoso Home"
        # vs "Contoso"); the word similarity threshold still has to agree.
        products.add(_norm(p.product))
        if p.vendor:
            products.add(_norm(f"{p.vendor} {p.product}"))
    words = Counter(w for w in _WORD.findall(f"{report.title} {report.description}".lower())
                    if w not in _STOP and len(w) > 1)
    return Fingerprint(frozenset(x for x in products if x), words)


def cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(n * b[w] for w, n in a.items() if w in b)
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return dot / norm if norm else 0.0


def _product_overlap(a: frozenset[str], b: frozenset[str]) -> str:
    for x in sorted(a):
        for y in b:
            if x == y or (len(x) > 4 and len(y) > 4 and (x in y or y in x)):
                return x
    return ""


def match(new: Fingerprint, old: Fingerprint) -> Match | None:
    """A Match when the two reports look like the same vulnerability, else None."""
    text = cosine(new.words, old.words)
    product = _product_overlap(new.products, old.products)
    if (product and text >= SAME_PRODUCT_THRESHOLD) or text >= TEXT_ONLY_THRESHOLD:
        return Match(score=round(0.5 * text + (0.5 if product else 0.0), 3),
                     same_product=product, text_similarity=round(text, 3))
    return None
