"""The publish benchmark's pipeline at a small scale: the case it builds publishes in every
format, and the validator timing hook sees time spent and puts the validators back."""

from __future__ import annotations

from pathlib import Path

from benchmarks.publish import run, timed_validators
from cvdesk.publish import csaf_check, cve, osv


def test_a_small_case_publishes_in_every_format(tmp_path: Path) -> None:
    before = (csaf_check.problems, cve.schema_errors, osv._validator)
    cpu, wall, validation = run(12, tmp_path)
    assert cpu > 0 and wall > 0 and 0 < validation < cpu
    assert (csaf_check.problems, cve.schema_errors, osv._validator) == before
    with timed_validators([0.0]):
        assert csaf_check.problems is not before[0]
    assert csaf_check.problems is before[0]
