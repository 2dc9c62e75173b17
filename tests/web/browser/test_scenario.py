"""Scenarios of issue 11 in a real Chromium against the real server.

The whole scenario of the issue, step by step as its pages land: a reporter submits a
report anonymously; the coordinator triages it into a case, adds two vendors and
notifies them; a vendor follows its invitation, sets a password, sees only its case and
gives a statement; a finding appears on the dashboard; the coordinator publishes.
``test_disclosure_scenario`` runs the steps that exist, in that order, each person in a
browser context of their own; a new step is a function in steps.py and a line here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.browser import steps
from tests.web.browser.conftest import Server

pytestmark = pytest.mark.browser

DEMO_CASE = "CVD-2026-0001"


def test_coordinator_signs_in_reads_a_case_and_signs_out(new_page: Any, server: Server,
                                                         shots: Path) -> None:
    page = new_page()
    page.goto("/login")
    steps.shot(page, shots, "login")
    steps.sign_in(page, server, "coordinator")
    expect(page.get_by_role("link", name=DEMO_CASE, exact=True)).to_be_visible()
    steps.shot(page, shots, "cases")
    steps.open_case_from_list(page, DEMO_CASE)
    steps.shot(page, shots, "case")
    steps.sign_out(page, server)
    page.goto(f"/cases/{DEMO_CASE}")  # the session is over: back to sign-in
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_disclosure_scenario(new_page: Any, server: Server, shots: Path) -> None:
    # 1. A reporter, with no account, sends a report through the public form.
    reporter = new_page()
    tracking, link = steps.submit_report(
        reporter, "Stored XSS in Initech Portal comments <script>",
        "A comment body is rendered without escaping; any visitor runs the script.")
    steps.shot(reporter, shots, "report-received")
    reporter.goto(link)  # the private link: the report's own page, no account
    expect(reporter.locator("h1")).to_contain_text("Stored XSS in Initech Portal")
    steps.shot(reporter, shots, "report-tracking")
    server.values["report"] = (tracking, reporter.url.rsplit("/", 1)[-1].split("?")[0])
    # 2. The coordinator finds the new case in the list.
    coordinator = new_page()
    steps.sign_in(coordinator, server, "coordinator")
    case_id = server.values["report"][1]
    steps.open_case_from_list(coordinator, case_id)
    # The title from outside is shown as text, never run (CSP and escaping).
    expect(coordinator.locator("h1")).to_contain_text("<script>")
    # 3. ... adds two vendors with their contacts and notifies them.
    steps.add_participant(coordinator, case_id, "Initech PSIRT", email="psirt@initech.test")
    steps.add_participant(coordinator, case_id, "Hooli Security",
                          email="security@hooli.test")
    steps.notify_vendors(coordinator, case_id)
    steps.shot(coordinator, shots, "case-coordinator")
    # Still to come as their pages land: the vendor follows its invitation, sets a
    # password, sees only its case and gives a statement; a finding on the dashboard;
    # the coordinator publishes.
