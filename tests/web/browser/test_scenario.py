"""Scenarios of issue 11 in a real Chromium against the real server.

``test_disclosure_scenario`` is the issue's whole scenario, each person in a browser
context of their own and acting through the pages only: a reporter submits a report
anonymously (and tells the coordinator the press has noticed); the coordinator triages
it into a case, adds two vendors and notifies them, gives the vulnerabilities their
product versions and invites one vendor; that vendor follows its invitation (the link as
the outbox holds it), sets a password, sees only its case and gives a statement per
vulnerability; once the coordinator has the due cases checked, a finding appears on the
dashboard; the coordinator previews the advisory and publishes it.  A new step is a
function in steps.py and a line here.  Screenshots: see conftest.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.browser import steps
from tests.web.browser.conftest import Server, outbox_link, server_errors

pytestmark = pytest.mark.browser

DEMO_CASE = "CVD-2026-0001"
VENDOR, VENDOR_EMAIL = "Initech PSIRT", "psirt@initech.test"
PRODUCT = "Initech Portal"


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
    assert not server_errors(server)


def test_disclosure_scenario(new_page: Any, server: Server, shots: Path) -> None:
    # 1. A reporter, with no account, sends a report through the public form.
    reporter = new_page()
    reporter.goto("/report")
    steps.shot(reporter, shots, "report-form")
    tracking, link = steps.submit_report(
        reporter, "Stored XSS in Initech Portal comments <script>",
        "A comment body is rendered without escaping; any visitor runs the script.",
        vulnerabilities="Stored XSS in the comment body",
        products="Initech Portal | 3.0 to 3.4")
    steps.shot(reporter, shots, "report-received")
    reporter.goto(link)  # the private link: the report's own page, no account
    expect(reporter.locator("h1")).to_contain_text("Stored XSS in Initech Portal")
    steps.shot(reporter, shots, "report-tracking")
    case_id = reporter.url.rsplit("/", 1)[-1].split("?")[0]
    server.values["report"] = (tracking, case_id)
    # ... and answers there: the press has noticed (guide 6.8), which the desk reads.
    steps.write_to_coordinator(
        reporter, case_id, "Press",
        "A journalist from a news site asked me about this bug; I would also like to "
        "present it at DEF CON.")

    # 2. The coordinator finds the new case in the list ...
    coordinator = new_page()
    steps.sign_in(coordinator, server, "coordinator")
    steps.open_case_from_list(coordinator, case_id)
    # The title from outside is shown as text, never run (CSP and escaping).
    expect(coordinator.locator("h1")).to_contain_text("<script>")
    # ... adds two vendors with their contacts and notifies them ...
    steps.add_participant(coordinator, case_id, VENDOR, email=VENDOR_EMAIL)
    steps.add_participant(coordinator, case_id, "Hooli Security",
                          email="security@hooli.test")
    steps.notify_vendors(coordinator, case_id)
    # ... gives the reported vulnerability its product and versions, adds a second one
    # (an advisory is not published without the affected versions) ...
    steps.product_versions(coordinator, case_id, "V1", PRODUCT, vendor=VENDOR,
                           introduced="3.0", fixed="3.5")
    steps.add_vulnerability(coordinator, case_id, "CSRF in the comment settings",
                            cwes="CWE-352", product=PRODUCT, vendor=VENDOR,
                            introduced="3.2", fixed="3.5")
    # ... and invites the first vendor's contact to the desk.
    steps.invite(coordinator, case_id, VENDOR)
    coordinator.locator("summary", has_text="Add a vulnerability").click()
    steps.shot(coordinator, shots, "case-coordinator", at="#actions")

    # 3. The vendor follows the invitation from its mail (read from the outbox), sets a
    # password and lands on its case.
    vendor = new_page(time_zone="America/New_York")
    invitation = outbox_link(server, VENDOR_EMAIL)
    assert invitation.startswith("/invite/")
    steps.accept_invitation(vendor, server, invitation, VENDOR_EMAIL, case_id,
                            "a vendor passphrase for the browser test")
    # It sees only its case: the list holds that one, another case is "not found".
    vendor.goto("/cases?status=")
    rows = vendor.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name=case_id, exact=True)).to_be_visible()
    answer = vendor.goto(f"/cases/{DEMO_CASE}")
    assert answer is not None and answer.status == 404, answer and answer.status
    expect(vendor.locator("main")).not_to_contain_text("Acme")
    # It gives a statement per vulnerability.
    for key, words in (("V1", "Comments are escaped since 3.5."),
                       ("V2", "The settings form checks a CSRF token since 3.5.")):
        steps.give_statement(vendor, case_id, key, PRODUCT, "fixed", fixed_version="3.5",
                             statement=words)
    vendor.goto(f"/cases/{case_id}")
    statements = vendor.locator("h2:has-text('Vendor statements') + table tbody tr")
    expect(statements).to_have_count(2)
    expect(statements.first).to_contain_text("fixed in 3.5")
    expect(vendor.locator("main")).not_to_contain_text("Add a vulnerability")
    steps.shot(vendor, shots, "case-vendor", at="#participants")

    # 4. Once the coordinator has the due cases checked, the reporter's message shows as
    # a finding on the dashboard: the vendor's, which holds its one case only.
    steps.check_due_cases(coordinator)
    steps.shot(coordinator, shots, "dashboard")
    vendor.goto("/")
    findings = vendor.locator("li.finding")
    expect(findings.first).to_be_visible()
    expect(findings.filter(has_text="Media attention and hype")).to_have_count(1)
    for link in findings.get_by_role("link").all():
        assert link.inner_text() == case_id
    steps.shot(vendor, shots, "dashboard-vendor")

    # 5. The coordinator previews the advisory and publishes it.
    steps.preview_advisory(coordinator, case_id, ("csaf", "markdown"))
    expect(coordinator.locator("main")).not_to_contain_text("Not publishable")
    expect(coordinator.locator("pre.document").first).to_contain_text(PRODUCT)
    steps.shot(coordinator, shots, "advisory-preview")
    steps.publish(coordinator, "Initial advisory")
    # No page shows a published advisory yet: the case's messages and log say it was.
    expect(coordinator.locator("#messages ~ table").first).to_contain_text(
        "Advisory published (version 1)")
    steps.shot(coordinator, shots, "advisory-published", at="#messages")
    assert not server_errors(server)
