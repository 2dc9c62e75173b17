"""The message detector on a labelled set of real-looking messages (guide 6.7-6.9).

Each message carries the truth (what a person would say it shows) and, where
the phrase list gets it wrong, the error is listed so the known false positives
and false negatives stay visible and counted.
"""

from __future__ import annotations

import pytest

from cvdesk.troubleshoot.text import analyze

LEGAL, HOSTILE, HYPE = "legal-threat", "hostile-tone", "hype"

# (message, truth, known detector error: "fp:<kind>" or "fn:<kind>" or "")
LABELLED: list[tuple[str, set[str], str]] = [
    ("Please be advised that our legal department has prepared a cease and desist letter "
     "regarding your unauthorized testing.", {LEGAL}, ""),
    ("If you publish this, we will pursue legal action against you and your employer.",
     {LEGAL}, ""),
    ("Your scanning of our production systems constitutes a violation of our terms of "
     "service.", {LEGAL}, ""),
    ("We have forwarded your e-mail to our attorneys.", {LEGAL}, ""),
    ("We reserve all rights regarding your unlawful intrusion into our network.", {LEGAL},
     "fn:legal-threat"),
    ("Our lawyers will be in touch about the damages your disclosure caused.", {LEGAL}, ""),
    ("We will file a DMCA takedown notice for the proof of concept on GitHub.", {LEGAL}, ""),
    ("Accessing our API this way may be a crime under the CFAA, and we reserve the right to "
     "report you to law enforcement.", {LEGAL}, ""),
    ("Under section 202c StGB your tool is illegal.", {LEGAL}, ""),
    ("We are considering a lawsuit.", {LEGAL}, ""),
    ("Thank you for your report. We will not take legal action against researchers acting "
     "in good faith.", set(), ""),
    ("Our safe harbor covers your research: no DMCA or CFAA claims will be brought.", set(),
     ""),
    ("We never threaten researchers with lawsuits.", set(), "fp:legal-threat"),
    ("Thanks, we reproduced the issue and a fix is planned for 4.2.1.", set(), ""),
    ("Could you share the exact firmware version you tested?", set(), ""),
    ("Our legal team reviewed the advisory text and it is fine to publish on the 14th.", set(),
     "fp:legal-threat"),
    ("> We will sue you if you publish\nUnderstood, we will wait for your patch.", set(), ""),
    ("This is ridiculous. Your team is incompetent and clearly does not care about users.",
     {HOSTILE}, ""),
    ("Pay us a bounty of 5000 USD or we publish tomorrow. Final warning.", {HOSTILE}, ""),
    ("WHY HAS NOBODY ANSWERED MY EMAILS FOR THREE WEEKS? THIS IS UNACCEPTABLE!!!", {HOSTILE},
     ""),
    ("Stop wasting my time with automated replies.", {HOSTILE}, ""),
    ("I am a bit frustrated that the date slipped again, can we talk on Friday?", set(), ""),
    ("Sorry for the delay, our PSIRT lead was on leave.", set(), ""),
    ("A journalist from a tech news site contacted us about this bug.", {HYPE}, ""),
    ("The finder has dubbed it 'PlugPwn' and made a logo.", {HYPE}, ""),
    ("My talk about this will be at DEF CON in August.", {HYPE}, ""),
    ("The vulnerability went viral on social media overnight.", {HYPE}, ""),
    ("The reporter confirmed that the fix works.", set(), ""),
    ("We will publish the advisory on our website next Tuesday.", set(), ""),
    ("Our lawyers say you are incompetent and we will sue.", {LEGAL, HOSTILE}, ""),
]


def _expected(truth: set[str], error: str) -> set[str]:
    if not error:
        return truth
    kind, _, name = error.partition(":")
    return truth | {name} if kind == "fp" else truth - {name}


@pytest.mark.parametrize(("message", "truth", "error"), LABELLED,
                         ids=[m[:40] for m, _, _ in LABELLED])
def test_detector_output_is_as_listed(message: str, truth: set[str], error: str) -> None:
    assert set(analyze(message)) == _expected(truth, error)


def test_precision_and_recall_of_legal_threats() -> None:
    tp = fp = fn = 0
    for message, truth, _ in LABELLED:
        found = LEGAL in analyze(message)
        tp += found and LEGAL in truth
        fp += found and LEGAL not in truth
        fn += (not found) and LEGAL in truth
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    # 10 true positives, 2 listed false positives, 1 listed false negative.
    assert (tp, fp, fn) == (10, 2, 1)
    assert precision >= 0.8 and recall >= 0.85


def test_phrases_are_reported() -> None:
    found = analyze("Our lawyers will send a cease-and-desist.")
    assert found == {LEGAL: ["our lawyers", "cease-and-desist"]}
