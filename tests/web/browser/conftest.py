"""The web desk in a real browser (issue 11, Tests): the real server (``cvdesk serve
--demo`` on a temporary SQLite database and a free port on 127.0.0.1, in a subprocess)
and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (the Debian
package ``chromium``, which .ci/run installs), headless, with its background services
off, since the machine has no network beyond loopback.  Without that binary the tests
are skipped, except under CI (``CI=true``), where that is a failure.

Screenshots of each main page go to ``$CVDESK_SCREENSHOTS`` when it is set (the README
names docs/screenshots/), else to a temporary folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.serve_process import free_port, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[3]
START_SECONDS = 120


@dataclass
class Server:
    base: str
    database_url: str
    #: role (coordinator, vendor, reporter) -> (e-mail, password), as serve --demo printed
    logins: dict[str, tuple[str, str]]
    log: Path
    values: dict[str, Any] = field(default_factory=dict)  # what one step leaves the next


def outbox_link(server: Server, recipient: str, template: str = "account-invite") -> str:
    """The desk link in the newest ``template`` message queued for ``recipient``, as the
    outbox holds it (no worker runs: the mail is never sent), read through the desk in
    this process on the server's database."""
    from cvdesk.app import Desk
    from cvdesk.settings import load_settings
    from tests.web.account_helpers import account_mail

    desk = Desk(load_settings(database_url=server.database_url))
    try:
        bodies = [body for row, body in account_mail(desk, template)
                  if row.recipient == recipient]
    finally:
        desk.close()
    assert bodies, f"no {template} message for {recipient} in the outbox"
    found = re.search(re.escape(server.base) + r"(/[\w/-]+)", bodies[-1])
    assert found, f"no link to {server.base} in the {template} message:\n{bodies[-1]}"
    return found.group(1)


def server_errors(server: Server) -> list[str]:
    """Lines of the server's log that tell of a server error (a 5xx or a traceback)."""
    return [line for line in server.log.read_text(errors="replace").splitlines()
            if re.search(r'" 5\d\d |^Traceback|^ERROR', line)]


LOGIN_LINE = re.compile(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)\s+sees ")


def _wait(proc: subprocess.Popen[bytes], out: Path, base: str) -> dict[str, tuple[str, str]]:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cvdesk serve exited with {proc.returncode}:\n"
                               f"{out.read_text(errors='replace')}")
        logins = {m.group(1): (m.group(2), m.group(3)) for line in
                  out.read_text(errors="replace").splitlines()
                  if (m := LOGIN_LINE.match(line))}
        if len(logins) >= 3:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return logins
            except httpx.HTTPError:
                pass
        time.sleep(0.25)
    raise RuntimeError(f"cvdesk serve did not start in {START_SECONDS} s:\n"
                       f"{out.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("browser_server")
    port = free_port()
    url = f"sqlite:///{where / 'desk.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env.update(COLUMNS="200", CVDESK_NO_PROGRESS="1", PYTHONUNBUFFERED="1",
               # Notices and invitations are queued in the outbox (no worker runs).
               CVDESK_SMTP__SENDER="desk@cvdesk.test",
               CVDESK_WEB__BASE_URL=f"http://127.0.0.1:{port}")
    out = where / "serve.log"
    cvdesk = Path(sys.executable).with_name("cvdesk")
    with out.open("wb") as log:
        proc = subprocess.Popen([str(cvdesk), "--database-url", url, "serve", "--demo",
                                 "--host", "127.0.0.1", "--port", str(port)],
                                cwd=where, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        logins = _wait(proc, out, base)
        yield Server(base, url, logins, out)
    finally:
        stop(proc, timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("CVDESK_SCREENSHOTS")
    folder = (ROOT / wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


def _explain_failure(contexts: list[Any], server: Server, folder: Path) -> None:
    """After a failed scenario: each person's page as it was (a screenshot and its
    address) and the end of the server's log, so the failure says what was on screen."""
    lines = [f"browser pages at the failure (screenshots in {folder}):"]
    for n, context in enumerate(contexts, 1):
        for m, page in enumerate(context.pages, 1):
            path = folder / f"person{n}-page{m}.png"
            try:
                page.screenshot(path=str(path))
            except Exception as exc:  # the page may be gone: say so
                path = Path(f"(no screenshot: {exc})")
            lines.append(f"  person {n}: {page.url} -> {path}")
    log = server.log.read_text(errors="replace").splitlines()[-30:]
    print("\n".join([*lines, f"the end of the server's log ({server.log}):", *log]))


@pytest.fixture
def new_page(browser: Any, server: Server, request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A function giving a page in a browser context of its own (its own cookies): one
    per person in a scenario.  When the test fails, what each page showed is kept."""
    contexts: list[Any] = []

    def make(time_zone: str = "Europe/Berlin") -> Any:
        context = browser.new_context(base_url=server.base, timezone_id=time_zone,
                                      viewport={"width": 1280, "height": 800},
                                      locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    if request.node.stash.get(FAILED, False):
        _explain_failure(contexts, server, tmp_path_factory.mktemp("browser_failure"))
    for context in contexts:
        context.close()
