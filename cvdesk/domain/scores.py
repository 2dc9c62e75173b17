"""CVSS vectors, checked and scored by the ``cvss`` package (issue 10).

An advisory carries the vector as the source of truth and the base score and severity
computed from it, so every format shows the same numbers (appendix D lists the score
among what an advisory says).  Only CVSS 3.1 and 4.0 are taken: 3.0 computes some
scores differently and CVE records and CSAF documents written today use 3.1 or 4.0.

The package's own errors say "Malformed CVSS3 field" and the like; a person fixing a
vector needs to know which metric is wrong and what it may be.  So the vector is read
metric by metric against the package's own tables first, and each problem is worded
with the metric's abbreviation and its allowed values.  The package then scores the
vector; anything it still refuses is reported in general words.

``cvss`` is imported on first use: most commands never score anything.
"""

from __future__ import annotations

from typing import Any

from cvdesk.domain.advisory import Score
from cvdesk.domain.errors import InvalidInput

#: The prefix of each version taken, and the version's name.
PREFIXES = {"CVSS:3.1/": "3.1", "CVSS:4.0/": "4.0"}
MAX_LENGTH = 1000  # a full CVSS 4.0 vector with every metric is about 250 characters
FIELD = "cvss"


def _tables(version: str) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """(metric -> allowed values, mandatory metrics), as the cvss package defines them."""
    if version == "3.1":
        from cvss import constants3 as c3

        return ({m: tuple(v) for m, v in c3.METRICS_VALUES.items()},
                tuple(c3.METRICS_MANDATORY))
    from cvss import constants4 as c4

    return ({m: tuple(v) for m, v in c4.METRICS_VALUE_NAMES.items()},
            tuple(c4.METRICS_MANDATORY))


def version_of(vector: str) -> str:
    """"3.1" or "4.0" for a vector with one of those prefixes; InvalidInput otherwise."""
    text = vector.strip()
    for prefix, version in PREFIXES.items():
        if text.startswith(prefix):
            return version
    if text.startswith("CVSS:3.0/"):
        raise InvalidInput(FIELD, "CVSS 3.0 vectors are not taken; give the vector as CVSS "
                           "3.1 (CVSS:3.1/...) or 4.0 (CVSS:4.0/...)")
    if text.startswith("CVSS:"):
        shown = text.split("/", 1)[0]
        raise InvalidInput(FIELD, f"'{shown}' is not a version taken here; give a CVSS 3.1 "
                           "(CVSS:3.1/...) or 4.0 (CVSS:4.0/...) vector")
    raise InvalidInput(FIELD, f"'{_short(text)}' does not start with CVSS:3.1/ or CVSS:4.0/; "
                       "give the whole vector string")


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def check_metrics(vector: str) -> tuple[str, dict[str, str]]:
    """(version, metric -> value) of a vector, or InvalidInput naming the metric in
    trouble: an unknown metric, one given twice, a value it cannot take, or a mandatory
    metric left out."""
    text = vector.strip()
    if not text:
        raise InvalidInput(FIELD, "must not be empty")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(FIELD, f"{len(text)} characters is too long for a CVSS vector")
    version = version_of(text)
    values, mandatory = _tables(version)
    metrics: dict[str, str] = {}
    for part in text.split("/")[1:]:
        if not part:
            raise InvalidInput(FIELD, "an empty metric (a '//' or a '/' at the end)")
        metric, sep, value = part.partition(":")
        if not sep or ":" in value:
            raise InvalidInput(FIELD, f"'{_short(part)}' is not metric:value")
        if metric not in values:
            raise InvalidInput(FIELD, f"'{_short(metric)}' is not a CVSS {version} metric")
        if metric in metrics:
            raise InvalidInput(FIELD, f"{metric}: given twice")
        if value not in values[metric]:
            raise InvalidInput(FIELD, f"{metric}: '{_short(value)}' is not one of "
                               f"{', '.join(values[metric])}")
        metrics[metric] = value
    missing = [m for m in mandatory if m not in metrics]
    if missing:
        word = "metric" if len(missing) == 1 else "metrics"
        raise InvalidInput(FIELD, f"missing mandatory {word} {', '.join(missing)}")
    return version, metrics


def score(vector: str) -> Score:
    """The vector checked and scored: its version, its normal form (metrics in the
    specification's order, "not defined" values left out), base score and severity."""
    version, _ = check_metrics(vector)
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    try:
        parsed: Any = CVSS3(vector.strip()) if version == "3.1" else CVSS4(vector.strip())
    except CVSSError as e:  # the checks above should leave nothing; word it anyway
        raise InvalidInput(FIELD, f"not a valid CVSS {version} vector ({e})") from None
    return Score(version=version, vector=parsed.clean_vector(),
                 base_score=float(parsed.scores()[0]),
                 severity=str(parsed.severities()[0]).upper())

