"""Does a new report describe a vulnerability that an open case already tracks? (guide 6.5)

Two signals: the same product (vendor and product names, or purl/CPE), and
similar wording (cosine similarity of word counts of title and description).
A match is a prompt for a person to check real independence, never a merge.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping
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


def shares_product(new: Fingerprint, products: list[str]) -> bool:
    """Whether a stored report with these product keys shares a product with ``new`` (the
    0.25 word bar needs one; without it only the 0.6 bar, found by words, can match)."""
    return bool(_product_overlap(new.products, frozenset(products)))


def match(new: Fingerprint, old: Fingerprint) -> Match | None:
    """A Match when the two reports look like the same vulnerability, else None."""
    text = cosine(new.words, old.words)
    product = _product_overlap(new.products, old.products)
    if (product and text >= SAME_PRODUCT_THRESHOLD) or text >= TEXT_ONLY_THRESHOLD:
        return Match(score=round(0.5 * text + (0.5 if product else 0.0), 3),
                     same_product=product, text_similarity=round(text, 3))
    return None


# ------------------------------------------------------------------ look-up keys
# A stored report is found through keys ("p:", "g:", "t:" strings) and word prefixes
# rather than by comparing it with every open report.  They only narrow the search: every
# candidate is still judged by ``match``, so the result is the one a full scan gives.  A change to
# ``fingerprint`` or to the keys needs a migration that recomputes the stored ones.

#: Length of the character grams that find one product key inside another.
GRAM = 5


def _grams(key: str) -> set[str]:
    return {key[i:i + GRAM] for i in range(len(key) - GRAM + 1)}


def stored_keys(fp: Fingerprint) -> set[str]:
    """The product keys a stored report is filed under: its short product keys as they are
    ("p:"), and for each longer one every 5-character gram ("g:") and its last gram ("t:").
    Its words are filed apart, by ``word_prefix``."""
    keys: set[str] = set()
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


#: A key filed under fewer reports than this counts as short enough to read in full.
SHORT_LIST = 256


def product_probe(fp: Fingerprint, rarity: dict[str, int] | None = None,
                  ) -> list[frozenset[str]]:
    """Groups of keys such that every stored report sharing a product with ``fp`` is filed
    under all the keys of at least one group.  Equal short keys share their "p:" key.  A
    stored key that contains a longer new key x holds every gram of x, so it is filed under
    x's rarest gram and, when that list is short too (``rarity`` counts up to SHORT_LIST),
    under its second rarest as well; reading both short lists and keeping the reports on
    both leaves few.  A stored key inside x has its last gram among x's grams, so the "t:"
    keys of all x's grams find it."""
    counts = rarity or {}
    groups: list[frozenset[str]] = []
    for key in fp.products:
        if len(key) > 4:
            grams = sorted(_grams(key), key=lambda g: (counts.get(f"g:{g}", 0), g))
            rare = [f"g:{g}" for g in grams[:2] if counts.get(f"g:{g}", 0) < SHORT_LIST]
            groups.append(frozenset(rare or [f"g:{grams[0]}"]))
            groups += [frozenset({f"t:{g}"}) for g in grams]
        else:
            groups.append(frozenset({f"p:{key}"}))
    return groups


# ------------------------------------------------------------------ word prefixes
# The 0.6 bar needs no product in common, so the words must find those candidates.  All
# reports' words are put in ONE fixed order (``word_order``).  Write u and v for two
# reports' word counts divided by their lengths (so cosine = u.v), and T_x(w) for the
# length of what is left of report x from word w on, w included, as a share of the whole
# (1 at its first word, falling along the order).
#
# Why the look-up finds every pair at least TEXT_ONLY_THRESHOLD similar.  Along the order
# the product T_x(w) * T_y(w) only falls.  Split the shared words where it drops below
# PREFIX_TAIL = 1/2: the early ones B (product >= 1/2) and the rest, which all come at or
# after the first shared word w' with a product < 1/2.  By Cauchy-Schwarz over the words
# from w' on, the rest add at most T_x(w') * T_y(w') < 1/2 to the cosine.  So a pair with
# cosine >= 0.6 has
#     sum over B of u_w * v_w  >=  0.6 - 0.5 = 0.1  (PREFIX_BOUND).
# A word of B has T_x(w) >= 1/2 and T_y(w) >= 1/2, so each report only needs filing under
# its "prefix", the words while at least a quarter of its sum of squared counts is left,
# each with its weight u_w and its tail T_x(w); and the store, asked for the reports whose
# entries with T_x(w) >= 1/(2 T_y(w)) add up to 0.1, reads only those entries.  (The plain
# pigeonhole form, "shares one prefix word", is also exact, but then nearly every report
# sharing one fairly common word is a candidate.)  Floats only decide with a relative
# margin of 1e-9 on the side of reading more.
#
# The argument holds for ANY order, as long as both reports' prefixes were cut under the
# same one; the order only decides how many entries are read.  Rare words first reads
# least: a common word then comes late in most reports, where T_y is small, so its long
# list is read only where it comes early in the other report too.  So the order is by how
# many stored reports used the word when the store was last refiled (``Rarity``, a
# snapshot kept in the store, cvdesk.store.word_order), then longer words first, then a
# fixed hash.  The snapshot is frozen between refilings: counts that move as reports
# arrive would leave stored prefixes cut under an older order, and a pair filed under
# two orders can be missed.  A word the snapshot does not know counts as used by none
# (new words are mostly rare ones).  An empty snapshot (a new desk) is the order by
# length alone.  A snapshot taken at 1,000 of 100,000 synthetic reports already reads
# about 6,500 entries per submit instead of 10,000 (5,900 with a fresh one), so
# refiling now and then is enough.  Changing the order's rule, the tail or ``word_id``
# needs a migration that refiles every report (as 0009 and 0015 do).

#: Where a shared word stops counting as early (product of the two tails).
PREFIX_TAIL = 0.5
#: What the early shared words must add to the cosine for a pair to reach 0.6, less the
#: margin that keeps float rounding on the side of more candidates.
PREFIX_BOUND = (TEXT_ONLY_THRESHOLD - PREFIX_TAIL) * (1 - 1e-9)
_MARGIN = 1 - 1e-9


def _digest(word: str) -> bytes:
    return hashlib.blake2b(word.encode(), digest_size=8).digest()


#: Word id -> how many stored reports used the word at the last refiling (words used by
#: one report or none are left out and count as 0).
Rarity = Mapping[int, int]
_NONE: Rarity = {}


def word_order(word: str, rarity: Rarity = _NONE) -> tuple[int, int, bytes]:
    digest = _digest(word)
    return (rarity.get(int.from_bytes(digest, "big") >> 1, 0), -len(word), digest)


def word_id(word: str) -> int:
    """A 63-bit number standing for the word (a word can be as long as a description, too
    long for an index entry).  Two words with the same number only add candidates: their
    weights are added and the larger tail kept."""
    return int.from_bytes(_digest(word), "big") >> 1


def word_prefix(fp: Fingerprint, rarity: Rarity = _NONE) -> dict[int, tuple[float, float]]:
    """The prefix of ``fp``: word id -> (count / length, tail from that word on), for its
    words in ``word_order`` under ``rarity`` while at least a quarter of the sum of squared
    counts is left (integer arithmetic, so no rounding decides where it ends)."""
    total = sum(n * n for n in fp.words.values())
    rest = total
    out: dict[int, tuple[float, float]] = {}
    length = math.sqrt(total)
    for w in sorted(fp.words, key=lambda w: word_order(w, rarity)):
        if 4 * rest < total:
            break
        wid, n = word_id(w), fp.words[w]
        weight, tail = out.get(wid, (0.0, 0.0))
        out[wid] = (weight + n / length, max(tail, math.sqrt(rest / total)))
        rest -= n * n
    return out


def tail_floor(tail: float) -> float:
    """The least tail a stored entry needs to count as early against a new word whose own
    tail is ``tail`` (what the store is asked for)."""
    return PREFIX_TAIL * _MARGIN / tail


def word_probe(fp: Fingerprint, rarity: Rarity = _NONE) -> list[tuple[int, float, float]]:
    """(word id, least tail of a stored entry, weight) for each word of ``fp``'s prefix
    under ``rarity`` (the snapshot the stored prefixes were cut under): what the store is
    asked for (``CaseRepository.reports_sharing_words``)."""
    return [(w, tail_floor(tail), x) for w, (x, tail) in word_prefix(fp, rarity).items()]


def word_ids(fp: Fingerprint) -> set[int]:
    """The ids of ``fp``'s words (whose counts in the snapshot order its prefix)."""
    return {word_id(w) for w in fp.words}


def prefix_overlap(new: dict[int, tuple[float, float]],
                   old: dict[int, tuple[float, float]]) -> float:
    """What the early shared words add to the cosine (the store computes the same)."""
    return sum(x * old[w][0] for w, (x, tail) in new.items()
               if w in old and old[w][1] >= tail_floor(tail))


def may_reach_text_bar(new: dict[int, tuple[float, float]],
                       old: dict[int, tuple[float, float]]) -> bool:
    """False only when the two reports cannot be TEXT_ONLY_THRESHOLD similar."""
    return prefix_overlap(new, old) >= PREFIX_BOUND


def to_stored(fp: Fingerprint) -> dict[str, object]:
    return {"products": sorted(fp.products), "words": dict(sorted(fp.words.items()))}


def from_stored(data: dict[str, object]) -> Fingerprint:
    products = data.get("products") or []
    words = data.get("words") or {}
    assert isinstance(products, list) and isinstance(words, dict)
    return Fingerprint(frozenset(products), Counter({str(w): int(n) for w, n in words.items()}))
