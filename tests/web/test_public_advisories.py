"""The published advisories for anyone (issue 11): /advisories lists the TLP:CLEAR ones
that are public, /advisories/<case> shows one as it was published, with its credits,
timeline and files, and the files are served as stored with their media types.
Anything under embargo, not published or not TLP:CLEAR is "not found"."""

from __future__ import annotations

import hashlib

from sqlalchemy import update

from cvdesk.app import Desk
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    Credit,
    Report,
    ReporterInfo,
    Role,
    VersionRange,
    Vulnerability,
)
from cvdesk.store.tables import CaseRow
from tests.web.account_helpers import mweb  # noqa: F401  (fixture)
from tests.web.conftest import Web

TITLE = '<script>alert("x")</script> in Widget'


def _clear_case(web: Web, title: str = TITLE, tlp: TLP = TLP.CLEAR) -> str:
    return clear_case(web.desk, title, tlp)


def clear_case(desk: Desk, title: str = TITLE, tlp: TLP = TLP.CLEAR) -> str:
    """A TLP:CLEAR case with one vulnerability that names its versions, a CVE id and a
    reference (what a CVE record needs), reported by someone who wants credit."""
    product = AffectedProduct(product="Widget", vendor="Widget Co",
                              versions=(VersionRange(introduced="1.0", fixed="1.4"),))
    report = Report(
        title=title, tlp=tlp, reporter=ReporterInfo(name="Ada <b>Finder</b>",
                                                    email="ada@example.net"),
        description="A stored script in the widget's name field.", products=(product,),
        how_found="code review", when_found="last week",
        vulnerabilities=(Vulnerability(title=title, cve="CVE-2026-50001", affected=(product,),
                                       references=("https://widget.example/sa-1",)),),
        wants_credit=True, share_contact=True)
    cases = desk.cases()
    case_id = cases.submit_report(report).case_id
    with cases.case(case_id) as case:
        for name, public in (("Ada <b>Finder</b>", True), ("Withheld Person", False)):
            case.credit(Credit(name, Role.FINDER, "found it", public), at=desk.clock(),
                        actor="tester")
    return case_id


def _as_published_markdown(web: Web, case_id: str, version: int) -> bytes:
    from cvdesk.publish.readable import write_markdown
    from cvdesk.store.cases import CaseRepository

    with web.desk.db.sessions() as s:
        repo = CaseRepository(s)
        events = repo.events(repo.case_row(case_id).id)
    adv, _ = web.desk.public_advisories()._as_published(case_id, events, version)
    return write_markdown(adv).content


def _publish(web: Web, case_id: str, **kw: object) -> None:
    web.desk.publication().publish(case_id, ["csaf", "cve", "osv", "markdown"], **kw)


def test_a_published_clear_advisory_is_listed_shown_and_its_files_served(
        mweb: Web) -> None:  # noqa: F811
    case_id = _clear_case(mweb)
    _publish(mweb, case_id, summary="First <i>release</i>.")
    anon = mweb.fresh()
    listing = anon.get("/advisories")
    assert listing.status_code == 200
    assert f'href="/advisories/{case_id}"' in listing.text
    assert "<script>alert" not in listing.text and "&lt;script&gt;alert" in listing.text
    page = anon.get(f"/advisories/{case_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<script>alert" not in html and "<b>Finder" not in html
    assert "Ada &lt;b&gt;Finder&lt;/b&gt;" in html  # the credit, as text
    assert "Withheld Person" not in html  # no consent to publish the credit
    for section in ('id="acknowledgments"', 'id="timeline"', 'id="files"'):
        assert section in html
    assert "First &lt;i&gt;release&lt;/i&gt;." in html
    stored = {d.filename: d for d in mweb.desk.publication().revisions(case_id)[0].documents}
    assert {"CVE-2026-50001.json", f"{case_id.lower()}.json"} <= set(stored)
    types = {".json": "application/json", ".md": "text/markdown; charset=utf-8",
             ".sha256": "text/plain; charset=utf-8", ".sha512": "text/plain; charset=utf-8"}
    for name, doc in stored.items():
        url = f"/advisories/{case_id}/1/{name}"
        assert f'href="{url}"' in html
        r = anon.get(url)
        assert r.status_code == 200, name
        assert r.headers["content-type"] == types[name[name.rindex("."):]], name
        assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert hashlib.sha256(r.content).hexdigest() == doc.sha256
    # the page is built from the case as it was published: the readable advisory it
    # rebuilds is, byte for byte, the Markdown file that went out
    assert _as_published_markdown(mweb, case_id, 1) == \
        anon.get(f"/advisories/{case_id}/1/{case_id}.md").content
    assert anon.get(f"/advisories/{case_id}/1/nothing.json").status_code == 404
    assert anon.get(f"/advisories/{case_id}/2/{case_id.lower()}.json").status_code == 404
    assert anon.get(f"/advisories/{case_id}?version=2").status_code == 404
    # signed in, the same page (and the nav links it for everyone)
    signed = mweb.login("vendor@test.example")
    assert signed.get(f"/advisories/{case_id}").status_code == 200
    assert 'href="/advisories"' in signed.get("/cases").text
    assert 'href="/advisories"' in anon.get("/login").text


def test_the_page_shows_each_version_as_it_was_published(mweb: Web) -> None:  # noqa: F811
    case_id = _clear_case(mweb)
    _publish(mweb, case_id)
    later = "Second flaw added after version 1"
    product = AffectedProduct(product="Widget", vendor="Widget Co",
                              versions=(VersionRange(introduced="1.0", fixed="1.5"),))
    mweb.desk.cases().add_vulnerability(case_id, Vulnerability(title=later,
                                                               affected=(product,)))
    anon = mweb.fresh()
    assert later not in anon.get(f"/advisories/{case_id}").text
    mweb.clock.advance(days=1)
    _publish(mweb, case_id, summary="Adds the second flaw.")
    newest = anon.get(f"/advisories/{case_id}").text
    assert later in newest and "Adds the second flaw." in newest
    first = anon.get(f"/advisories/{case_id}?version=1")
    assert first.status_code == 200 and later not in first.text
    assert "the current one is" in first.text
    assert anon.get(f"/advisories/{case_id}/1/{case_id.lower()}.json").status_code == 200


def test_nothing_not_public_is_listed_or_served(mweb: Web) -> None:  # noqa: F811
    anon = mweb.fresh()
    amber = _clear_case(mweb, "An amber advisory", TLP.AMBER)
    _publish(mweb, amber)
    unpublished = _clear_case(mweb, "A clear case not published yet")
    embargoed = _clear_case(mweb, "A clear case embargoed again")
    _publish(mweb, embargoed)
    with mweb.desk.db.transaction() as s:  # as a later embargo would leave the row
        s.execute(update(CaseRow).where(CaseRow.case_id == embargoed)
                  .values(em_state="active"))
    listing = anon.get("/advisories").text
    for case_id in (amber, unpublished, embargoed):
        assert case_id not in listing
        assert anon.get(f"/advisories/{case_id}").status_code == 404
        assert anon.get(f"/advisories/{case_id}/1/{case_id.lower()}.json").status_code == 404
    coordinator = mweb.login("coord@test.example")  # the public page, for staff too
    assert coordinator.get(f"/advisories/{amber}").status_code == 404
    assert "No advisory has been published yet." in listing
    assert anon.get("/advisories/CVD-2099-9999").status_code == 404
