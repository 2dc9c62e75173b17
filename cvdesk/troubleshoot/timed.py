"""Evidence that counts time ("66 days silent", "ends in 3 days"), kept as facts.

A rule writes its evidence for the ``now`` it is asked about, so a count of days or
hours changes every time the clock moves although nothing in the case did.  Such
evidence is a ``Timed`` string: it reads as the rule's words at ``now``, and it also
keeps the pieces it was made of (plain text, a ``Count`` from or to an instant, an
``Until`` that words a fact one way before an instant and another way after).  The
sweep stores the pieces, which stay the same from one day to the next, and the desk
words them again for the time it shows them (``render``).  Rendered at the rule's own
``now``, the pieces give exactly the rule's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from json.encoder import encode_basestring_ascii
from typing import Any

UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
_set = object.__setattr__
_enc: Any = encode_basestring_ascii  # how json.dumps writes text


@dataclass(frozen=True)
class Count:
    """Whole days or hours from ``at`` to the time of reading (or, ``ahead``, from the
    time of reading to ``at``), truncated as ``int`` truncates; ``word`` is pluralized
    ("1 day", "2 days") unless ``plural`` is false ("2 hours" is then written whole)."""

    at: datetime
    unit: str = "day"
    word: str = "day"
    plural: bool = True
    ahead: bool = False

    def __init__(self, at: datetime, unit: str = "day", word: str = "day",
                 plural: bool = True, ahead: bool = False) -> None:
        # All fields at once (a sweep makes a few hundred thousand; see Finding).
        _set(self, "__dict__", {"at": at, "unit": unit, "word": word, "plural": plural,
                                "ahead": ahead})

    def text(self, now: datetime) -> str:
        span = self.at - now if self.ahead else now - self.at
        n = int(span / UNITS[self.unit])
        if not self.plural:
            return f"{n} {self.word}"
        return f"{n} {self.word}{'' if n == 1 else 's'}"

    def facts(self) -> dict[str, Any]:
        return {"count": self.unit, "at": self.at.isoformat(), "word": self.word,
                "plural": self.plural, "ahead": self.ahead}

    def json(self) -> str:
        """``json.dumps(self.facts())``, written directly (a sweep writes many)."""
        return (f'{{"count": {_enc(self.unit)}, "at": "{self.at.isoformat()}", "word": '
                f'{_enc(self.word)}, "plural": {"true" if self.plural else "false"}, '
                f'"ahead": {"true" if self.ahead else "false"}}}')

    def compact(self) -> str:
        """The short JSON a sweep stores (see ``Timed.compact``): ``[at]`` for whole days
        since ``at``, else ``[at, unit, word, plural, ahead]``."""
        key = (self.unit, self.word, self.plural, self.ahead)
        tail = _TAILS.get(key)
        if tail is None:
            tail = _TAILS[key] = '"]' if key == _DEFAULT else (
                f'",{_enc(self.unit)},{_enc(self.word)},{"true" if self.plural else "false"},'
                f'{"true" if self.ahead else "false"}]')
        return '["' + self.at.isoformat() + tail


@dataclass(frozen=True)
class Until:
    """``before`` while the time of reading is before ``at``, ``after`` from then on."""

    at: datetime
    before: str
    after: str

    def text(self, now: datetime) -> str:
        return self.before if now < self.at else self.after

    def facts(self) -> dict[str, Any]:
        return {"until": self.at.isoformat(), "before": self.before, "after": self.after}

    def json(self) -> str:
        return (f'{{"until": "{self.at.isoformat()}", "before": {_enc(self.before)}, '
                f'"after": {_enc(self.after)}}}')

    def compact(self) -> str:
        return (f'{{"until":"{self.at.isoformat()}","before":{_enc(self.before)},'
                f'"after":{_enc(self.after)}}}')


Piece = str | Count | Until

#: The end of a count's short JSON by (unit, word, plural, ahead); whole days since an
#: instant, the usual count, is written as the instant alone.
_TAILS: dict[tuple[str, str, bool, bool], str] = {}
_DEFAULT = ("day", "day", True, False)


class Timed(str):
    """Evidence words for one ``now`` that remember their pieces (see the module)."""

    pieces: tuple[Piece, ...]
    _json: str | None = None  # the JSON of the facts, once written
    _compact: str | None = None  # the short JSON, once written

    def __new__(cls, now: datetime, *pieces: Piece) -> Timed:
        self = str.__new__(cls, "".join([
            p if p.__class__ is str else p.text(now) for p in pieces]))  # type: ignore[union-attr]
        self.pieces = pieces
        return self

    def facts(self) -> dict[str, Any]:
        return {"timed": [p if p.__class__ is str else p.facts()  # type: ignore[union-attr]
                          for p in self.pieces]}

    def json(self) -> str:
        """``json.dumps(self.facts())``, written directly (once: evidence may be shared by
        several findings)."""
        text = self._json
        if text is None:
            text = self._json = '{"timed": [' + ", ".join([
                _enc(p) if p.__class__ is str else p.json()  # type: ignore[union-attr]
                for p in self.pieces]) + "]}"
        return text

    def compact(self) -> str:
        """The short JSON a sweep stores: the pieces as a list, plain text as text, a
        ``Count`` as a list (``Count.compact``), an ``Until`` as its facts (``facts``
        gives the same pieces back; written once, like ``json``)."""
        text = self._compact
        if text is None:
            text = self._compact = "[" + ",".join([
                _enc(p) if p.__class__ is str else p.compact()  # type: ignore[union-attr]
                for p in self.pieces]) + "]"
        return text


def stored(item: str) -> Any:
    """One evidence item as a sweep stores it: its pieces if it counts time, else its words."""
    return item.facts() if isinstance(item, Timed) else item


def _piece_text(piece: Any, now: datetime) -> str:
    if piece.__class__ is str:
        return piece  # type: ignore[no-any-return]
    if piece.__class__ is list:  # Count.compact
        return Count(datetime.fromisoformat(piece[0]), *piece[1:]).text(now)
    if "count" in piece:
        return Count(datetime.fromisoformat(piece["at"]), piece["count"], piece["word"],
                     piece["plural"], piece["ahead"]).text(now)
    return Until(datetime.fromisoformat(piece["until"]), piece["before"],
                 piece["after"]).text(now)


def _piece_facts(piece: Any) -> Any:
    if piece.__class__ is not list:
        return piece
    at, unit, word, plural, ahead = piece if len(piece) == 5 else (piece[0], *_DEFAULT)
    return {"count": unit, "at": at, "word": word, "plural": plural, "ahead": ahead}


def item_facts(item: Any) -> Any:
    """A stored evidence item, short (``Timed.compact``) or not, as ``stored`` gives it."""
    if item.__class__ is not list:
        return item
    return {"timed": [_piece_facts(p) for p in item]}


def render(items: Iterable[Any], now: datetime) -> list[str]:
    """Stored evidence worded for ``now``: plain words as they are, pieces counted; the
    pieces short (a list, ``Timed.compact``) or as ``facts`` gives them."""
    return [item if item.__class__ is str else
            "".join(_piece_text(p, now) for p in (
                item if item.__class__ is list else item["timed"])) for item in items]
