"""The sample advisory in every format, byte for byte as reviewed and checked in
(tests/publish/golden/).  A difference that is intended: run
``.venv/bin/python -m tests.publish.make_golden``, review the diff, commit it."""

from __future__ import annotations

import pytest

from tests.publish.make_golden import GOLDEN, documents

DOCS = documents()


@pytest.mark.parametrize("name", sorted(DOCS))
def test_the_writer_still_writes_the_reviewed_file(name: str) -> None:
    expected = (GOLDEN / name).read_bytes()
    assert DOCS[name].content == expected, (
        f"{name} differs from tests/publish/golden/{name}; if intended, run "
        "'.venv/bin/python -m tests.publish.make_golden' and review the diff")


def test_every_golden_file_is_still_written() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(DOCS)
