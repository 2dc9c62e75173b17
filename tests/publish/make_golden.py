"""Write the golden files: the sample advisory (tests/publish/samples.py) in every format.

Run by hand when a change to a writer is intended, review the diff, commit it:

    .venv/bin/python -m tests.publish.make_golden
"""

from __future__ import annotations

from pathlib import Path

from cvdesk.publish.common import Rendered
from cvdesk.publish.csaf import write_csaf
from cvdesk.publish.cve import write_cve
from cvdesk.publish.osv import write_osv
from cvdesk.publish.readable import write_html, write_markdown
from tests.publish.samples import SAMPLE, V1, V2

GOLDEN = Path(__file__).resolve().parent / "golden"
#: the CVE assigner and OSV prefix the golden files are written with
ASSIGNER = {"assigner_org_id": "b3476cb9-2e3d-41a6-98d0-0f47421a65b6",
            "assigner_short_name": "example"}
PREFIX = "x_example"


def documents() -> dict[str, Rendered]:
    """file name in golden/ -> the document as the writers produce it today."""
    docs = {
        "advisory.csaf.json": write_csaf(SAMPLE),
        "advisory.vex.json": write_csaf(SAMPLE, vex=True),
        "advisory.csaf21.json": write_csaf(SAMPLE, version="2.1"),
        "advisory.vex21.json": write_csaf(SAMPLE, vex=True, version="2.1"),
        "advisory.cve.json": write_cve(SAMPLE, V1.key, **ASSIGNER),
        "advisory.v1.osv.json": write_osv(SAMPLE, V1.key, id_prefix=PREFIX),
        "advisory.v2.osv.json": write_osv(SAMPLE, V2.key, id_prefix=PREFIX),
        "advisory.md": write_markdown(SAMPLE),
        "advisory.html": write_html(SAMPLE),
    }
    return docs


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name, doc in documents().items():
        (GOLDEN / name).write_bytes(doc.content)
        print(f"wrote {GOLDEN / name} ({len(doc.content)} bytes)")


if __name__ == "__main__":
    main()
