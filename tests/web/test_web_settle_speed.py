"""The tail of the web desk's answers (issue 11, speed): a worker settles before it serves
(what it loads is frozen out of the garbage collector's full passes), freezes once more
after its first requests only when none is in flight, and the case page makes no JSON
of the log entries it shows; an audited read still writes its entry."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cvdesk.web import settle as settle_module
from cvdesk.web.main import app as worker_app
from cvdesk.web.settle import YOUNG, Settled
from tests.web.conftest import CASE, Web


@pytest.fixture
def gc_state() -> Iterator[None]:
    """Whatever a test freezes or sets is undone: the test process carries on as before."""
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_worker_settles_before_it_serves(web: Web, gc_state: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    gc.unfreeze()
    monkeypatch.setenv("CVDESK_DATABASE_URL", web.desk.settings.database_url)
    monkeypatch.delitem(sys.modules, "cvdesk.web.timeline", raising=False)
    built = worker_app()
    assert isinstance(built, Settled)
    # what the pages load on first use is loaded, the templates compiled...
    assert "cvdesk.web.timeline" in sys.modules
    assert "case.html" in {t.name for t in built.renderer.env.cache.values()}
    # ...and then kept out of the full collections; young collections come less often
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == YOUNG
    assert built.fastapi is built.app.fastapi  # what tests walk is still there


def test_the_settled_worker_answers(web: Web, gc_state: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    monkeypatch.setenv("CVDESK_DATABASE_URL", web.desk.settings.database_url)
    client = TestClient(worker_app())
    assert client.get("/healthz").text == "ok"
    assert client.get(f"/api/v1/cases/{CASE}").status_code == 401


def _run(app: Any, paths: list[str]) -> None:
    async def one(path: str) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_message: dict[str, Any]) -> None:
            return None

        await app({"type": "http", "path": path}, receive, send)

    async def all_of_them() -> None:
        await asyncio.gather(*(one(p) for p in paths))

    # in a thread of its own: another test may leave an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, all_of_them()).result()


def test_the_second_freeze_waits_until_no_request_is_in_flight(
        monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    in_flight = [0]

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        in_flight[0] += 1
        await asyncio.sleep(0.01 if scope["path"] == "/slow" else 0)
        in_flight[0] -= 1

    monkeypatch.setattr(settle_module, "freeze", lambda: frozen.append(in_flight[0]))
    app = Settled(inner, after=3)
    _run(app, ["/a", "/b"])
    assert frozen == []
    # the third answer comes while /slow is still running: the freeze waits for it
    _run(app, ["/slow", "/c"])
    assert frozen == [0]
    _run(app, ["/d", "/e", "/f"])
    assert frozen == [0]  # once only


def test_the_case_page_makes_no_json_of_its_log(web: Web,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from cvdesk.services import portal

    made: list[str] = []
    real = portal.shown_json

    def counted(*args: Any) -> dict[str, Any]:
        made.append(args[0].type.value)
        return real(*args)

    monkeypatch.setattr(portal, "shown_json", counted)
    coord = web.login("coord@test.example")
    page = coord.get(f"/cases/{CASE}")
    assert page.status_code == 200 and made == []
    events = coord.get(f"/api/v1/cases/{CASE}").json()["events"]
    assert events and len(made) == len(events)
    assert all({"seq", "summary", "reason", "data"} <= set(e) for e in events)
    with_reason = [e for e in events if e["reason"]]
    if with_reason:  # the page shows each entry's reason (escaped, as ever)
        from markupsafe import escape

        assert str(escape(with_reason[0]["reason"])) in page.text


def test_an_embargoed_read_is_audited_before_the_answer(web: Web) -> None:
    coord = web.login("coord@test.example")
    embargoed = [c["case_id"] for c in coord.get(
        "/api/v1/cases", params={"embargo": "active"}).json()["items"]]
    before = web.desk.accounts().audit_log(None, case_id=embargoed[0]).total
    assert coord.get(f"/cases/{embargoed[0]}").status_code == 200
    after = web.desk.accounts().audit_log(None, case_id=embargoed[0])
    assert after.total == before + 1
    entry = after.items[0]
    assert entry.action == "read embargoed case" and entry.actor.startswith("Coordinator")
