"""The metrics page and its charts on the web desk (issue 12, Plots): staff see skill,
timing and findings with the charts as SVG images served by the desk; everyone else is
refused (tests/web/test_authorization_matrix.py has every role)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.web.conftest import Web

COORD, ADMIN = "coord@test.example", "admin@test.example"
CHART_NAMES = ("alpha", "timing", "findings")


@pytest.mark.parametrize("email", [COORD, ADMIN])
def test_staff_see_the_page_with_its_charts(web: Web, email: str) -> None:
    client = web.login(email)
    page = client.get("/metrics")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Learning from experience" in html
    for name in CHART_NAMES:
        assert f'src="/metrics/charts/{name}.svg"' in html
    # the numbers are on the page too, not only in the pictures
    assert "V&lt;P" in html and "vendor aware before public aware" in html
    assert "Embargoes:" in html and "Median (days)" in html
    assert "style=" not in html and "<script>" not in html  # CSP: nothing inline
    for name in CHART_NAMES:
        chart = client.get(f"/metrics/charts/{name}.svg")
        assert chart.status_code == 200, (name, chart.text)
        assert chart.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(chart.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert not re.search(rb"\sstyle=", chart.content)


def test_the_scope_travels_to_the_charts(web: Web) -> None:
    client = web.login(COORD)
    scope = {"since": "2020-01-01", "vendor": "Acme Networks"}
    page = client.get("/metrics", params=scope)
    assert page.status_code == 200, page.text
    assert ('src="/metrics/charts/alpha.svg?since=2020-01-01&amp;vendor=Acme+Networks"'
            in page.text)
    chart = client.get("/metrics/charts/alpha.svg", params=scope)
    assert chart.status_code == 200
    assert "since 2020-01-01, vendor Acme Networks" in chart.text


def test_a_vendor_written_like_math_draws_a_chart(web: Web) -> None:
    """A vendor filter of '$\\frac{$' made matplotlib fail to parse math: a 500."""
    chart = web.login(COORD).get("/metrics/charts/alpha.svg", params={"vendor": "$\\frac{$"})
    assert chart.status_code == 200
    assert "vendor $\\frac{$" in chart.text


def test_a_bad_date_is_named(web: Web) -> None:
    client = web.login(COORD)
    page = client.get("/metrics", params={"since": "last year"})
    assert page.status_code == 422
    assert "since" in page.text and "last year" in page.text
    # a date-time is not cut to its day here while the command line keeps its hour
    page = client.get("/metrics", params={"until": "2026-03-01T12:00"})
    assert page.status_code == 422 and "whole days" in page.text


def test_an_unknown_chart_is_not_found(web: Web) -> None:
    assert web.login(COORD).get("/metrics/charts/pie.svg").status_code == 404


@pytest.mark.parametrize("email", ["vendor@test.example", "reporter@test.example"])
def test_others_are_refused(web: Web, email: str) -> None:
    client = web.login(email)
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics/charts/alpha.svg").status_code == 403
    # a bad value tells them nothing either: the staff check comes first
    assert client.get("/metrics", params={"since": "x"}).status_code == 403
    assert "/metrics" not in client.get("/").text


def test_anonymous_is_sent_to_sign_in(web: Web) -> None:
    anon = web.fresh()
    for path in ("/metrics", "/metrics/charts/alpha.svg"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_the_dashboard_shows_staff_the_same_charts(web: Web) -> None:
    html = web.login(COORD).get("/").text
    assert "Learning from experience" in html
    for chart in ("alpha", "timing", "findings"):
        assert f'<a href="/metrics"><img src="/metrics/charts/{chart}.svg"' in html
