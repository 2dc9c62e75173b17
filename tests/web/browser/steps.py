"""The steps people take on the desk, as a browser takes them, shared by the scenarios.

Each step is a function of a Playwright page (one browser context per person) that
does what the person does through the pages only (links, forms, buttons) and checks what
the person should see.  ``shot`` saves a screenshot of the page under a stable name, so
the README's screenshots come from the same run as the checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.web.browser.conftest import Server


def shot(page: Any, folder: Path, name: str, at: str | None = None) -> None:
    """What the window shows (1280x800, not the whole page: the files stay small), from
    the element ``at`` (a CSS selector) when given, else where the page is."""
    if at is not None:
        target = page.locator(at).first
        expect(target).to_be_visible()
        target.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def sign_in(page: Any, server: Server, role: str, *, next_path: str = "/cases",
            email: str | None = None, password: str | None = None) -> None:
    if email is None or password is None:
        email, password = server.logins[role]
    page.goto(f"/login?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(server.base + next_path) + r"($|\?)"))
    expect(page.locator("header .who")).to_contain_text("Sign out")


def sign_out(page: Any, server: Server) -> None:
    page.locator("header .who").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(server.base) + r"/login"))
    expect(page.locator("header .who")).to_contain_text("Sign in")


def open_case_from_list(page: Any, case_id: str) -> None:
    """From the case list, follow the case's link."""
    page.goto("/cases?status=")
    link = page.get_by_role("link", name=case_id, exact=True)
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}($|\?)"))
    expect(page.locator("h1")).to_contain_text(case_id)


def submit_report(page: Any, title: str, description: str, **fields: str) -> tuple[str, str]:
    """The public report form, sent without an account: (tracking id, private link)."""
    page.goto("/report")
    page.locator("#in-title").fill(title)
    page.locator("#in-description").fill(description)
    for name, value in fields.items():
        page.locator(f"#in-{name}").fill(value)
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("h1")).to_have_text("Report received")
    tracking = page.locator("p.big code").first.inner_text().strip()
    link = page.locator("p.big a").first.get_attribute("href") or ""
    assert tracking and "/track/" in link
    return tracking, link


def add_participant(page: Any, case_id: str, name: str, role: str = "vendor",
                    email: str = "") -> None:
    """The coordinator's "Add a participant" form on the case page."""
    page.goto(f"/cases/{case_id}#actions")
    box = page.locator("details", has=page.locator("summary", has_text="Add a participant"))
    box.locator("summary").click()
    form = box.locator("form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Role").select_option(role)
    if email:
        form.get_by_label("E-mail (optional)").fill(email)
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("The participant was added.")
    expect(page.locator("body")).to_contain_text(name)


def notify_vendors(page: Any, case_id: str) -> None:
    """Queue the first notice to every vendor of the case (the outbox sends it)."""
    page.goto(f"/cases/{case_id}#actions")
    box = page.locator("details", has=page.locator("summary", has_text="Notify vendors"))
    box.locator("summary").click()
    box.locator("form").get_by_role("button", name="Queue").click()
    expect(page.get_by_role("status")).to_contain_text("The notices were queued.")


def _open_form(page: Any, case_id: str, summary: str) -> Any:
    """The case page's form under the <summary> ``summary``, opened."""
    page.goto(f"/cases/{case_id}#actions")
    box = page.locator("details", has=page.locator("summary", has_text=summary))
    expect(box).to_have_count(1)
    if box.get_attribute("open") is None:  # a click on an open one would close it
        box.locator("summary").click()
    form = box.locator("form").first
    expect(form).to_be_visible()
    return form


def add_vulnerability(page: Any, case_id: str, title: str, *, cwes: str = "",
                      product: str = "", vendor: str = "", introduced: str = "",
                      fixed: str = "") -> None:
    """The coordinator's "Add a vulnerability" form, with one affected product."""
    form = _open_form(page, case_id, "Add a vulnerability")
    form.get_by_label("Title").fill(title)
    form.get_by_label("CWE ids").fill(cwes)
    form.get_by_label("Product", exact=True).fill(product)
    form.get_by_label("Its vendor").fill(vendor)
    form.get_by_label("Affected from version").fill(introduced)
    form.get_by_label("Fixed in version").fill(fixed)
    form.get_by_role("button", name="Add the vulnerability").click()
    expect(page.get_by_role("status")).to_contain_text("The vulnerability was added.")


def product_versions(page: Any, case_id: str, key: str, product: str, *, vendor: str = "",
                     introduced: str = "", fixed: str = "") -> None:
    """The coordinator's "Versions of an affected product" form."""
    form = _open_form(page, case_id, "Versions of an affected product")
    form.get_by_label("Vulnerability").select_option(key)
    form.get_by_label("Product", exact=True).fill(product)
    form.get_by_label("Its vendor (optional)").fill(vendor)
    form.get_by_label("Affected from version").fill(introduced)
    form.get_by_label("Fixed in version").fill(fixed)
    form.get_by_role("button", name="Record the versions").click()
    expect(page.get_by_role("status")).to_contain_text("The product's versions were recorded.")


def invite(page: Any, case_id: str, participant: str) -> None:
    """The coordinator's "Invite a participant to the desk" form: the invitation mail,
    with its one-time link, is queued in the outbox."""
    form = _open_form(page, case_id, "Invite a participant to the desk")
    form.get_by_label("Participant (p3 or name)").fill(participant)
    form.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text("The invitation was queued.")


def accept_invitation(page: Any, server: Server, link: str, email: str, case_id: str,
                      password: str) -> None:
    """Follow an invitation link, set a password, land signed in on the case."""
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Accept the invitation")
    expect(page.locator("main")).to_contain_text(case_id)
    expect(page.get_by_label("Account")).to_have_value(email)
    page.get_by_label("New password").fill(password)
    page.get_by_label("The same again").fill(password)
    page.get_by_role("button", name="Set the password").click()
    expect(page).to_have_url(re.compile(re.escape(f"{server.base}/cases/{case_id}") + "$"))
    expect(page.locator("h1")).to_contain_text(case_id)
    expect(page.locator("header .who")).to_contain_text("Sign out")


def give_statement(page: Any, case_id: str, key: str, product: str, status: str, *,
                   fixed_version: str = "", statement: str = "") -> None:
    """The vendor's own statement on one product and one vulnerability."""
    page.goto(f"/cases/{case_id}#actions")
    box = page.locator("details", has=page.locator("summary", has_text="Your statement"))
    form = box.locator("form[action$='/statements']")
    expect(form).to_be_visible()  # open for a vendor
    form.get_by_label("Vulnerability").select_option(key)
    form.get_by_label("Product").fill(product)
    form.get_by_label("Status").select_option(status)
    form.get_by_label("Fixed in version").fill(fixed_version)
    form.get_by_label("Statement").fill(statement)
    form.get_by_role("button", name="Save statement").click()
    expect(page.get_by_role("status")).to_contain_text("The statement was recorded.")


def check_due_cases(page: Any) -> None:
    """The dashboard's staff button: the troubleshooting sweep over the due cases."""
    page.goto("/")
    page.get_by_role("button", name="Check the due cases again").click()
    expect(page.get_by_role("status")).to_contain_text("have been checked again")


def preview_advisory(page: Any, case_id: str, formats: tuple[str, ...]) -> None:
    """From the case page: tick the formats, open the preview."""
    form = _open_form(page, case_id, "Publish the advisory")
    for box in form.locator("input[name=format]").all():
        box.set_checked(box.get_attribute("value") in formats)
    form.get_by_role("button", name="Preview").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/advisory/preview\?"))
    expect(page.locator("h1")).to_contain_text("Advisory draft")


def publish(page: Any, summary: str) -> None:
    """On the preview page: publish (the page asks to confirm first)."""
    form = page.locator("form[action$='/publish']")
    form.get_by_label("Summary of this version").fill(summary)
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The advisory was published.")


def write_to_coordinator(page: Any, case_id: str, subject: str, body: str) -> None:
    """A reporter's or vendor's message in its own thread with the coordinator."""
    page.goto(f"/cases/{case_id}#actions")
    box = page.locator("details", has=page.locator("summary",
                                                   has_text="Write to the coordinator"))
    form = box.locator("form")
    if not form.is_visible():
        box.locator("summary").click()
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("Message").fill(body)
    form.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("The message was logged.")
