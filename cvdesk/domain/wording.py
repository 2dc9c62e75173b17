"""The case state in words (CVD case-state model, guide 2.4 and the Vultron CS model):
each letter is one fact; capital when it has happened, small when not yet."""

from __future__ import annotations

#: letter -> (words when it has happened, words when not yet)
FACTS: dict[str, tuple[str, str]] = {
    "V": ("the vendor knows", "the vendor does not know yet"),
    "F": ("a fix is ready", "no fix is ready yet"),
    "D": ("the fix is deployed", "the fix is not deployed yet"),
    "P": ("the public knows", "the public does not know yet"),
    "X": ("an exploit is public", "no exploit is public"),
    "A": ("attacks have been seen", "no attacks seen"),
}


def state_words(letters: str) -> list[tuple[str, bool, str]]:
    """(letter, happened, words) for each letter of a state such as ``pXa`` or ``VFd``."""
    out = []
    for ch in letters:
        upper = ch.upper()
        if upper in FACTS:
            happened = ch.isupper()
            out.append((upper, happened, FACTS[upper][0 if happened else 1]))
    return out
