"""Files that hold case data (the SQLite database, hand-off packages, exports).

Case data is embargoed until publication (CERT guide 2.4, 5.7), so whatever cvdesk
writes to disk is readable by its owner only: 0600 files and 0700 directories,
whatever the umask.  A file that already exists with looser permissions is tightened
when cvdesk rewrites it.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` and missing parents as 0700; existing directories are left alone
    (they may be the user's own, such as the working directory)."""
    missing = []
    for p in (path, *path.parents):
        if p.exists():
            break
        missing.append(p)
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(p, DIR_MODE)  # mkdir's mode is filtered by the umask


def create_private(path: Path) -> bool:
    """Create an empty 0600 file unless it exists; True when it was created."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` as a 0600 file.  The directory must
    exist (OSError otherwise): a mistyped directory is not created."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
