"""Dashboard reads of embargoed cases are audited (issue 11, Confidentiality): a finding
tells about its case, so a dashboard view (page or API) that shows a finding of a case
under embargo writes one audit entry (who, what, when, from which address) naming every
such case shown, not one per finding; a view showing none writes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cvdesk.store.tables import CaseRow
from tests.web.conftest import CASE, PASSWORD, Web
from tests.web.test_dashboard import bearer, findings

COORD, VENDOR = "coord@test.example", "vendor@test.example"
ACTION = "read embargoed findings"


def dashboard_audits(web: Web) -> list[Any]:
    return [e for e in web.desk.accounts().audit_log(None, limit=200).items
            if e.action == ACTION]


def embargoed(web: Web) -> set[str]:
    with web.desk.db.sessions() as s:
        return set(s.scalars(select(CaseRow.case_id).where(
            CaseRow.em_state.in_(("proposed", "active", "revise")))))


def test_a_staff_dashboard_view_is_one_entry_naming_the_embargoed_cases(web: Web) -> None:
    web.desk.doctor().sweep()
    h = bearer(web, COORD)
    assert dashboard_audits(web) == []
    page = findings(web, h)  # the API view
    shown = [f["case_id"] for f in page["items"]]
    under = [c for c in dict.fromkeys(shown) if c in embargoed(web)]
    assert len(under) >= 2 and len(shown) > len(under)  # several findings per case
    [entry] = dashboard_audits(web)
    assert entry.actor == web.desk.accounts().sign_in(COORD, PASSWORD).principal.actor
    assert entry.address == "testclient"
    assert entry.case_id == ""  # several cases: all of them in the target
    assert entry.target == "dashboard: " + ", ".join(under)
    assert entry.at == web.clock()
    web.login(COORD).get("/")  # the page view: one more entry
    assert len(dashboard_audits(web)) == 2
    # a page of findings without an embargoed case writes nothing
    r = web.client.get("/api/v1/findings", headers=h,
                       params={"offset": page["total"], "limit": 5})
    assert r.status_code == 200 and r.json()["items"] == []
    assert len(dashboard_audits(web)) == 2


def test_a_vendor_dashboard_view_names_its_embargoed_case(web: Web) -> None:
    web.clock.advance(days=10)  # a finding about the vendor's own case comes due
    web.desk.doctor().sweep()
    assert CASE in embargoed(web)
    vendor = web.login(VENDOR)
    html = vendor.get("/").text
    assert CASE in html
    [entry] = dashboard_audits(web)
    me = web.desk.accounts().sign_in(VENDOR, PASSWORD).principal
    assert (entry.case_id, entry.target, entry.actor) == (CASE, f"dashboard: {CASE}",
                                                          me.actor)
    assert entry.at == web.clock() and entry.address == "testclient"
