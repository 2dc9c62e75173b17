"""What every format writer returns, and how it refuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cvdesk.domain.errors import BadInput


@dataclass(frozen=True, slots=True)
class Rendered:
    """One written document: its format, the file name the format's rules give it, the
    bytes, and the media type to serve it with."""

    format: str  # "csaf", "csaf-vex", "cve", "osv", "markdown", "html"
    filename: str
    content: bytes
    media_type: str


class InvalidAdvisory(BadInput):
    """The advisory cannot be written in this format as it stands: each problem names the
    part of the advisory (or the format's field) and what is wrong.  Nothing is written."""

    def __init__(self, format: str, problems: Sequence[str]) -> None:
        self.format = format
        self.problems = list(problems)
        super().__init__(f"the {format} document is not valid: " + "; ".join(self.problems))
