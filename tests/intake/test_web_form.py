"""The web report form is the report form's own field list (issue 11): every field of
the form has an input, and what a browser posts reads as the same form."""

from __future__ import annotations

import pytest

from cvdesk.intake import FormError, parse_report
from cvdesk.intake.report_form import _FORM_KEYS, _REPORTER_KEYS
from cvdesk.intake.web_form import WEB_FIELDS, field_of, form_tree


def test_every_form_field_has_an_input() -> None:
    names = {f.name for f in WEB_FIELDS}
    expected = {k for k in _FORM_KEYS if k != "reporter"} | {
        f"reporter.{k}" for k in _REPORTER_KEYS}
    assert names == expected


def test_posted_fields_read_as_the_form() -> None:
    report = parse_report(form_tree({
        "title": "t", "description": "d", "tlp": "GREEN", "products": "A | 1.x\n\nB",
        "public_urls": "https://x.example/1", "wants_credit": "true",
        "reporter.email": "r@x.example", "csrftoken": "ignored"}))
    assert report.tlp.value == "GREEN"
    assert [p.product for p in report.products] == ["A", "B"]
    assert report.products[0].version_text == "1.x"  # words, never read as a range
    assert report.public and report.wants_credit and not report.exploited
    assert report.reporter.name == "anonymous" and report.reporter.email == "r@x.example"


def test_problems_point_at_their_input() -> None:
    with pytest.raises(FormError) as caught:
        parse_report(form_tree({"description": "d", "public_urls": "https://a.example\nnope",
                                "reporter.email": "not-an-address"}))
    places = {path: field_of(path) for path, _ in caught.value.problems}
    assert places["title"] == ("title", "")
    assert places["public_urls[1]"] == ("public_urls", "line 2")
    assert places["reporter.email"] == ("reporter.email", "")
