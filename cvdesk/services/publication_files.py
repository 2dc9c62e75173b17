"""Writing a publication's files into an output directory as part of the publication
(issue 10): staged before the commit, so a failure to write rolls it back, and put in
place after it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvdesk.domain.case import Case
from cvdesk.domain.errors import InvalidInput
from cvdesk.store.files import private_dir, write_private

#: TLP labels under which a published advisory still may not be shared freely: its
#: files are written readable by their owner only (0600), like a draft.
_PRIVATE_TLP = frozenset({"RED", "AMBER", "AMBER+STRICT"})


def _make_dir(out_dir: Path) -> None:
    try:
        private_dir(out_dir)
    except OSError as exc:
        raise InvalidInput("output directory", f"{out_dir}: {exc.strerror}") from None


@dataclass(slots=True)
class _Staged:
    """A publication done in the transaction, and its files for the output directory.

    The files are part of the publication (issue 10): ``stage`` writes them into a
    hidden staging folder inside the directory before the commit, so a full disk, a
    refused permission or a directory standing at a file's name rolls the publication
    back; ``place`` renames them into place after the commit (``os.replace``, atomic on
    one file system).  Only a failure of that rename leaves a publication without
    some of its files: the message then names them; their bytes are stored with the
    revision (``advisory list``) and the CSAF ones are laid out again by the provider
    directory command."""

    case: Case
    published: Any
    docs: list[Any]
    digests: dict[str, str]
    skipped: list[str]
    sent: list[str]
    unreachable: list[str]
    recorded_p: bool
    ended_embargo: bool
    out_dir: Path | None = None
    temp: Path | None = None

    def stage(self, out_dir: Path, *, public: bool) -> None:
        """Write every file into the staging folder: 0644 when the TLP lets anyone read
        the advisory (CLEAR, GREEN), 0600 under AMBER or RED."""
        import tempfile

        self.out_dir = out_dir
        target = out_dir
        try:
            self.temp = Path(tempfile.mkdtemp(prefix=".cvdesk-publish-", dir=out_dir))
            for doc in self.docs:
                target = out_dir / doc.filename
                if target.is_dir() or (target.exists() and not target.is_file()):
                    raise IsADirectoryError(21, "there is a directory (or something other "
                                            "than a file) at this name", str(target))
                staged = self.temp / doc.filename
                write_private(staged, doc.content)
                if public:
                    os.chmod(staged, 0o644)
        except OSError as exc:
            self.discard()
            raise InvalidInput("output directory", f"{target}: {exc.strerror}; nothing "
                               "was published") from None

    def place(self, version: int) -> dict[str, str]:
        """Rename the staged files into place; the path of each."""
        assert self.out_dir is not None and self.temp is not None
        placed: dict[str, str] = {}
        failed: list[str] = []
        problem = ""
        for doc in self.docs:
            target = self.out_dir / doc.filename
            try:
                os.replace(self.temp / doc.filename, target)
            except OSError as exc:
                failed.append(doc.filename)
                problem = problem or f"{target}: {exc.strerror}"
                continue
            placed[doc.filename] = str(target)
        self.discard()
        if failed:
            raise InvalidInput("output directory", (
                f"{problem} (advisory version {version} of {self.case.case_id} is "
                "published and stored; these files were not written: "
                + ", ".join(failed) + "; their stored bytes are listed by the advisory "
                "list command and the CSAF ones are laid out again by the provider "
                "directory command)"))
        return placed

    def discard(self) -> None:
        if self.temp is not None:
            import shutil

            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None
