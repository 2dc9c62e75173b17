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


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


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
