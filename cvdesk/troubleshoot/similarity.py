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


# ------------------------------------------------------------------ look-up keys
# A stored report is found through keys ("p:", "g:", "w:" strings) rather than by comparing
# it with every open report.  The keys only narrow the search: every candidate is still
# judged by ``match``, so the result is the one a full scan gives.  A change to
# ``fingerprint`` or to the keys needs a migration that recomputes the stored ones.

#: Length of the character grams that find one product key inside another.
GRAM = 5


def _grams(key: str) -> set[str]:
    return {key[i:i + GRAM] for i in range(len(key) - GRAM + 1)}


def stored_keys(fp: Fingerprint) -> set[str]:
    """The keys a stored report is filed under: its words ("w:"), its short product keys as
    they are ("p:"), and for each longer one every 5-character gram ("g:") and its last
    gram ("t:")."""
    keys = {f"w:{w}" for w in fp.words}
    for key in fp.products:
        if len(key) > 4:
            keys |= {f"g:{g}" for g in _grams(key)}
            keys.add(f"t:{key[-GRAM:]}")
        else:
            keys.add(f"p:{key}")
    return keys


def gram_keys(fp: Fingerprint) -> set[str]:
    """The "g:" keys of ``fp``'s longer product keys (their rarity picks the probe)."""
    return {f"g:{g}" for key in fp.products if len(key) > 4 for g in _grams(key)}


def product_probe(fp: Fingerprint, rarity: dict[str, int] | None = None) -> set[str]:
    """Keys that every stored report sharing a product with ``fp`` is filed under at least
    one of.  Equal short keys share their "p:" key.  A stored key that contains a longer new
    key x holds every gram of x, so x's rarest gram finds it; a stored key inside x has its
    last gram among x's grams, so the "t:" keys of all x's grams find it."""
    counts = rarity or {}
    keys: set[str] = set()
    for key in fp.products:
        if len(key) > 4:
            grams = sorted(_grams(key))
            keys.add("g:" + min(grams, key=lambda g: (counts.get(f"g:{g}", 0), g)))
            keys |= {f"t:{g}" for g in grams}
        else:
            keys.add(f"p:{key}")
    return keys


def word_probe(fp: Fingerprint, threshold: float, rarity: dict[str, int] | None = None,
               ) -> set[str]:
    """Words of ``fp`` that every report at least ``threshold`` similar shares one of.

    If a report shares none of the chosen words, only the rest can add to the dot product,
    and by Cauchy-Schwarz its similarity is at most |rest| / |all|.  So the words are taken
    (rarest first when ``rarity`` gives how many stored reports use each, to keep the
    candidates few) until what is left weighs less than ``threshold``; a small margin keeps
    rounding on the safe side (more words, never fewer)."""
    total = sum(n * n for n in fp.words.values())
    if not total:
        return set()
    counts = rarity or {}
    order = sorted(fp.words, key=lambda w: (counts.get(f"w:{w}", 0), -fp.words[w], w))
    rest, limit = total, threshold * threshold * total * (1 - 1e-9)
    chosen: set[str] = set()
    for w in order:
        if rest < limit:
            break
        chosen.add(f"w:{w}")
        rest -= fp.words[w] * fp.words[w]
    return chosen


def to_stored(fp: Fingerprint) -> dict[str, object]:
    return {"products": sorted(fp.products), "words": dict(sorted(fp.words.items()))}


def from_stored(data: dict[str, object]) -> Fingerprint:
    products = data.get("products") or []
    words = data.get("words") or {}
    assert isinstance(products, list) and isinstance(words, dict)
    return Fingerprint(frozenset(products), Counter({str(w): int(n) for w, n in words.items()}))
