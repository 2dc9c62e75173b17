"""The word-prefix look-up of the duplicate check (guide 6.5; 6.10 row 15) finds exactly the
text-only matches that comparing every pair finds.

The look-up is replayed in memory the way the store runs it (each report filed under its
prefix with weights and tails; candidates are those whose early shared words add up to
PREFIX_BOUND; then ``match`` judges them) and compared with the brute-force comparison.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.troubleshoot.similarity import (
    PREFIX_BOUND,
    TEXT_ONLY_THRESHOLD,
    Fingerprint,
    cosine,
    match,
    may_reach_text_bar,
    word_id,
    word_order,
    word_prefix,
    word_probe,
)

# Few words, some long and some short, so that reports overlap often and the fixed order
# (longest first) puts shared and unshared words on both sides of a prefix's end.
VOCABULARY = ["a1", "bb", "heap", "tls", "crash", "router", "overflow", "firmware",
              "deserialization", "xss", "token", "upload", "parser", "authentication", "rce"]

corpora = st.lists(st.dictionaries(st.sampled_from(VOCABULARY), st.integers(1, 6),
                                   min_size=1, max_size=12), min_size=2, max_size=12)


def _indexed(prints: list[Fingerprint], new: Fingerprint,
             rarity: dict[int, int] | None = None) -> set[int]:
    """Stored reports the store would return for ``new``, then judged by ``match``, with
    every prefix cut under the one ``rarity`` snapshot."""
    rarity = rarity or {}
    postings: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for i, fp in enumerate(prints):
        for w, (x, tail) in word_prefix(fp, rarity).items():
            postings[w].append((i, x, tail))
    shared: dict[int, float] = defaultdict(float)
    for w, floor, y in word_probe(new, rarity):
        for i, x, tail in postings.get(w, ()):
            if tail >= floor:
                shared[i] += x * y
    return {i for i, x in shared.items() if x >= PREFIX_BOUND
            if (m := match(new, prints[i])) and m.text_similarity >= TEXT_ONLY_THRESHOLD}


@settings(max_examples=200, deadline=None)
@given(corpus=corpora, new=st.dictionaries(st.sampled_from(VOCABULARY), st.integers(1, 6),
                                           max_size=12))
def test_indexed_lookup_equals_brute_force(corpus: list[dict[str, int]],
                                           new: dict[str, int]) -> None:
    prints = [Fingerprint(frozenset(), Counter(c)) for c in corpus]
    fp = Fingerprint(frozenset(), Counter(new))
    brute = {i for i, old in enumerate(prints)
             if cosine(fp.words, old.words) >= TEXT_ONLY_THRESHOLD}
    assert _indexed(prints, fp) == brute


@settings(max_examples=200, deadline=None)
@given(corpus=corpora, new=st.dictionaries(st.sampled_from(VOCABULARY), st.integers(1, 6),
                                           max_size=12),
       counts=st.dictionaries(st.sampled_from(VOCABULARY), st.integers(0, 50)),
       from_corpus=st.booleans())
def test_any_one_rarity_snapshot_finds_the_same_matches(
        corpus: list[dict[str, int]], new: dict[str, int], counts: dict[str, int],
        from_corpus: bool) -> None:
    """The order is any snapshot (arbitrary counts, or the corpus's own document
    frequencies as a refiling takes them): the matches are the brute-force ones."""
    prints = [Fingerprint(frozenset(), Counter(c)) for c in corpus]
    fp = Fingerprint(frozenset(), Counter(new))
    if from_corpus:
        counts = dict(Counter(w for c in corpus for w in c))
    rarity = {word_id(w): n for w, n in counts.items()}
    brute = {i for i, old in enumerate(prints)
             if cosine(fp.words, old.words) >= TEXT_ONLY_THRESHOLD}
    assert _indexed(prints, fp, rarity) == brute


def test_the_order_is_by_rarity_then_length() -> None:
    rarity = {word_id("deserialization"): 40, word_id("heap"): 3, word_id("xss"): 3}
    order = sorted(["deserialization", "heap", "xss", "tls"], key=lambda w: word_order(w, rarity))
    assert order == ["tls", "heap", "xss", "deserialization"]  # unknown words count as 0


@settings(max_examples=300, deadline=None)
@given(a=st.dictionaries(st.text("abcde", min_size=1, max_size=6), st.integers(1, 9),
                         max_size=20),
       b=st.dictionaries(st.text("abcde", min_size=1, max_size=6), st.integers(1, 9),
                         max_size=20))
def test_pairs_over_the_bar_share_enough_prefix_weight(a: dict[str, int],
                                                       b: dict[str, int]) -> None:
    """The bound itself, on free-form words: any pair at 0.6 or more passes the filter."""
    if cosine(Counter(a), Counter(b)) >= TEXT_ONLY_THRESHOLD:
        assert may_reach_text_bar(word_prefix(Fingerprint(frozenset(), Counter(a))),
                                  word_prefix(Fingerprint(frozenset(), Counter(b))))


def test_near_misses_at_the_bar() -> None:
    """Pairs built to sit right at 0.6 (6 of 10 unit words shared, cosine exactly 0.6
    in exact arithmetic) are still found, whichever words are shared."""
    words = sorted(VOCABULARY[:14], key=word_order)
    for shift in range(5):
        x = Counter(words[:10])
        y = Counter(words[shift:shift + 6] + words[10:14])
        assert abs(cosine(x, y) - 0.6) < 1e-9 or cosine(x, y) < 0.6
        if cosine(x, y) >= TEXT_ONLY_THRESHOLD:
            assert may_reach_text_bar(word_prefix(Fingerprint(frozenset(), x)),
                                      word_prefix(Fingerprint(frozenset(), y)))


def test_the_prefix_is_fixed_per_report_and_stops_at_a_quarter() -> None:
    words = Counter({"deserialization": 1, "overflow": 1, "heap": 1, "xss": 1})
    prefix = word_prefix(Fingerprint(frozenset(), words))
    # longest first: after three words 1 of 4 is left, not less than a quarter: all four
    assert list(prefix) == [word_id(w) for w in ["deserialization", "overflow", "heap", "xss"]]
    assert [tail for _, tail in prefix.values()] == [1.0, 0.75 ** 0.5, 0.5 ** 0.5, 0.5]
    assert {x for x, _ in prefix.values()} == {0.5}
    five = words + Counter({"tls": 1})
    assert len(word_prefix(Fingerprint(frozenset(), five))) == 4  # 1/5 left < 1/4: stop
    assert word_prefix(Fingerprint(frozenset(), Counter())) == {}
