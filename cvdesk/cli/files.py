"""Files named on the command line, read with a limit: a file of any size (a log, a
device such as /dev/zero) costs no more than the limit, and a problem names the option."""

from __future__ import annotations

from pathlib import Path

from cvdesk.domain.errors import InvalidInput


def read_at_most(path: Path, limit: int, option: str) -> bytes:
    """The first ``limit + 1`` bytes of ``path`` at most: a caller that finds ``limit + 1``
    knows the file is too long without having read the rest."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise InvalidInput(option, f"{path}: {exc.strerror or exc}") from None


def read_text(path: Path, limit: int, option: str) -> str:
    """``path`` as UTF-8 text of at most ``limit`` bytes."""
    data = read_at_most(path, limit, option)
    if len(data) > limit:
        raise InvalidInput(option, f"{path}: larger than {_size(limit)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(option, f"{path}: not UTF-8 text (byte {exc.start})") from None


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 and not n % 2**20 else (
        f"{n // 1024} KiB" if not n % 1024 else f"{n} bytes")
