"""The case page in depth (issue 11): state and embargo in words and in the viewer's
time zone, participants with their statements, the timeline drawing, findings and
message threads, each as the principal may see it, on the page and in the API."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cvdesk.domain.accounts import Principal
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import Channel, Direction, Role
from tests.web.conftest import CASE, OTHER, PASSWORD, Web

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert('subject')</script>"


@dataclass
class Setup:
    own: int  # the vendor account's participant in CASE
    other: int  # another vendor of CASE, not the account's
    reporter: int


def _principal(web: Web, email: str) -> Principal:
    accounts = web.desk.accounts()
    return accounts.session_principal(accounts.sign_in(email, PASSWORD).token)


def _setup(web: Web) -> Setup:
    """CASE with a second vendor, a statement by each, a case-wide message (with markup
    in its subject), a private message to each vendor, attacks seen (a finding that
    concerns vendors) and the findings swept."""
    cases = web.desk.cases()
    own = min(web.desk.accounts().access(_principal(web, "vendor@test.example"), CASE).pids)
    reporter = min(web.desk.accounts().access(_principal(web, "reporter@test.example"),
                                              CASE).pids)
    other = cases.add_participant(CASE, "Initech Secret Vendor", [Role.VENDOR],
                                  email="psirt@initech.example")
    cases.record_statement(CASE, f"p{own}", "V1", "Acme RouterOS", "fixed",
                           fixed_version="7.4.2", statement="Own words of the vendor")
    cases.record_statement(CASE, f"p{other}", "V1", "Initech Box", "affected",
                           statement="Initech private statement")
    cases.log_message(CASE, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                      subject=SCRIPT, body="to everyone <b>bold</b>")
    cases.log_message(CASE, direction=Direction.INBOUND, channel=Channel.EMAIL,
                      subject="Acme private thread", body="hello", participant=f"p{own}")
    cases.log_message(CASE, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                      subject="Initech private thread", body="secret",
                      participant=f"p{other}")
    cases.record_cs(CASE, CSEvent.A)
    web.clock.advance(days=10)  # long enough for the new vendor to be found unnotified
    web.desk.doctor().sweep()
    return Setup(own, other, reporter)


def test_state_and_embargo_in_words_in_the_viewers_zone_and_tlp(web: Web) -> None:
    web.desk.accounts().create_user("ny@test.example", "New York coordinator", PASSWORD,
                                    site_role="coordinator", time_zone="America/New_York")
    page = web.login("ny@test.example").get(f"/cases/{CASE}").text
    assert 'class="tlp-banner tlp-amber"' in page and "TLP:AMBER" in page
    assert "the public does not know yet" in page and "no attacks seen" in page
    assert "an embargo is in force" in page
    # The embargo ends 2026-11-17 09:00 UTC: 04:00 in New York, both shown.
    assert "2026-11-17 04:00 EST (2026-11-17 09:00 UTC)" in page
    assert "In force since" in page and "Time left" in page


def test_vendor_sees_only_its_own_statements_threads_and_findings(web: Web) -> None:
    s = _setup(web)
    vendor = web.login("vendor@test.example")
    page = vendor.get(f"/cases/{CASE}").text
    assert "Own words of the vendor" in page and "V1: fixed" in page
    assert "Initech" not in page  # no name, statement, thread or finding of the other
    assert "Acme private thread" in page and "to everyone" in page
    api = vendor.get(f"/api/v1/cases/{CASE}").json()
    assert {st["participant"] for st in api["statements"]} == {s.own}
    assert set(api["statement_status"]) == {str(s.own)}
    messages = vendor.get(f"/api/v1/cases/{CASE}/messages").json()
    assert {t["thread"] for t in messages["threads"]["items"]} == {"case", f"p{s.own}"}
    assert {m["participant"] for m in messages["messages"]["items"]} == {None, s.own}
    refused = vendor.get(f"/api/v1/cases/{CASE}/messages", params={"thread": f"p{s.other}"})
    assert refused.status_code == 422 and "thread" in refused.text
    found = vendor.get(f"/api/v1/cases/{CASE}/findings").json()["items"]
    assert found, "attacks during an embargo concern vendors"
    for f in found:
        assert "vendor" in f["concerns"] and f["subject"] in (None, s.own)
        assert {a["role"] for a in f["actions"]} <= {"vendor"}
    timeline = vendor.get(f"/api/v1/cases/{CASE}/timeline", params={"limit": 200}).json()
    assert all(e["participant"] in (None, s.own) for e in timeline["items"])
    assert not any(e["type"] == "report.received" for e in timeline["items"])

    coord = web.login("coord@test.example")
    all_found = coord.get(f"/api/v1/cases/{CASE}/findings").json()
    assert {f["key"] for f in found} < {f["key"] for f in all_found["items"]}
    assert any(f["subject"] == s.other for f in all_found["items"]), \
        "the never-notified vendor is a finding for the coordinator"
    threads = coord.get(f"/api/v1/cases/{CASE}/messages").json()["threads"]["items"]
    assert {t["thread"] for t in threads} == {"case", f"p{s.own}", f"p{s.other}"}
    coord_page = coord.get(f"/cases/{CASE}").text
    assert "Initech private statement" in coord_page and "V1: affected" in coord_page

    reporter = web.login("reporter@test.example")
    rep = reporter.get(f"/api/v1/cases/{CASE}/messages").json()
    assert {t["thread"] for t in rep["threads"]["items"]} == {"case"}
    rep_found = reporter.get(f"/api/v1/cases/{CASE}/findings").json()["items"]
    assert all({"reporter", "finder"} & set(f["concerns"]) for f in rep_found)
    assert all({a["role"] for a in f["actions"]} <= {"reporter", "finder"} for f in rep_found)

    other = web.login("other-vendor@test.example")
    for part in ("timeline", "findings", "messages"):
        assert other.get(f"/api/v1/cases/{CASE}/{part}").status_code == 404
    assert other.get(f"/cases/{CASE}/timeline.svg").status_code == 404


def test_markup_in_a_message_subject_shows_as_text(web: Web) -> None:
    _setup(web)
    for email in ("coord@test.example", "vendor@test.example"):
        page = web.login(email).get(f"/cases/{CASE}").text
        assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;" in page
        assert SCRIPT not in page and "<b>bold</b>" not in page


def _svg_parts(root: ET.Element) -> tuple[list[ET.Element], list[ET.Element]]:
    groups = list(root.iter(f"{SVG}g"))
    bands = [g for g in groups if "embargo-active" in g.get("class", "")]
    today = [g for g in groups if g.get("class") == "today"]
    return bands, today


def test_timeline_drawing_is_valid_svg_with_the_embargo_and_today(web: Web) -> None:
    _setup(web)
    vendor = web.login("vendor@test.example")
    r = vendor.get(f"/cases/{CASE}/timeline.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)
    bands, today = _svg_parts(root)
    assert len(bands) == 1 and bands[0].find(f"{SVG}rect") is not None
    assert "Embargo in force from 2026-10-07" in bands[0].findtext(f"{SVG}title", "")
    assert len(today) == 1 and today[0].find(f"{SVG}line") is not None
    assert root.find(f"{SVG}circle") is not None or root.findall(f".//{SVG}circle")
    # The page carries the same drawing inline (no script, no style attribute).
    page = vendor.get(f"/cases/{CASE}").text
    inline = re.search(r"<svg.*?</svg>", page, re.S)
    assert inline is not None
    assert _svg_parts(ET.fromstring(inline.group(0)))[0]
    assert "<script" not in inline.group(0) and "style=" not in inline.group(0)


def test_a_case_with_2000_vendors_answers_with_one_page_of_participants(web: Web) -> None:
    from benchmarks.publish import build_case

    case_id = build_case(web.desk.cases(), web.clock, 2000)
    coord = web.login("coord@test.example")
    r = coord.get(f"/cases/{case_id}")
    assert r.status_code == 200
    table = re.search(r'<table class="list participants">.*?</table>', r.text, re.S)
    assert table is not None
    rows = re.findall(r"<td>p(\d+)</td>", table.group(0))
    assert len(rows) == 50 and rows[0] == "1"
    assert "CVE-2026-40000: fixed" in table.group(0)
    assert "of 2002" in r.text  # the pager says how many in all
    second = coord.get(f"/cases/{case_id}", params={"offset": 1000}).text
    assert "<td>p1001</td>" in second and "<td>p1000</td>" not in second
    api = coord.get(f"/api/v1/cases/{case_id}").json()
    assert api["participants"]["total"] == 2002 and len(api["participants"]["items"]) == 50
    assert len(api["statements"]) <= 50  # only those of the page's participants
    assert len(api["timeline"]["marks"]) < 20  # a few marks per lane and day
    log = coord.get(f"/api/v1/cases/{case_id}/timeline",
                    params={"offset": 4000, "limit": 200}).json()
    assert log["total"] > 4000 and len(log["items"]) == 200


def test_reading_an_embargoed_case_part_is_audited(web: Web) -> None:
    vendor = web.login("vendor@test.example")
    before = web.desk.accounts().audit_log(None, case_id=CASE).total
    for part in ("timeline", "findings", "messages"):
        assert vendor.get(f"/api/v1/cases/{CASE}/{part}").status_code == 200
    assert web.desk.accounts().audit_log(None, case_id=CASE).total == before + 3
    # A case without an embargo is read without an entry.
    coord = web.login("coord@test.example")
    before = web.desk.accounts().audit_log(None, case_id=OTHER).total
    assert coord.get(f"/api/v1/cases/{OTHER}/messages").status_code == 200
    assert web.desk.accounts().audit_log(None, case_id=OTHER).total == before


def test_paging_and_thread_input_are_checked(web: Web) -> None:
    coord = web.login("coord@test.example")
    bad = coord.get(f"/api/v1/cases/{CASE}/messages", params={"thread": "everyone"})
    assert bad.status_code == 422 and "thread" in bad.text
    assert coord.get(f"/api/v1/cases/{CASE}/timeline", params={"limit": 0}).status_code == 422
    page = coord.get(f"/api/v1/cases/{CASE}/timeline", params={"limit": 3, "offset": 2}).json()
    assert page["limit"] == 3 and page["offset"] == 2 and len(page["items"]) == 3
    times = [e["at"] for e in coord.get(f"/api/v1/cases/{CASE}/timeline").json()["items"]]
    assert times == sorted(times)


def test_a_change_to_the_case_shows_at_once(web: Web) -> None:
    """The page remembers its costlier reads per case version (services/portal_cache.py):
    any change to the case must show on the next read."""
    coord = web.login("coord@test.example")
    first = coord.get(f"/api/v1/cases/{CASE}").json()
    assert not first["statements"]
    vendor = next(p["pid"] for p in first["participants"]["items"] if "vendor" in p["roles"])
    web.desk.cases().record_statement(CASE, f"p{vendor}", "V1", "Acme RouterOS",
                                      "under_investigation")
    web.desk.cases().add_participant(CASE, "Late Vendor Ltd", [Role.VENDOR])
    again = coord.get(f"/api/v1/cases/{CASE}").json()
    assert again["statement_status"] == {str(vendor): {"V1": "under_investigation"}}
    assert again["timeline"]["entries"] == first["timeline"]["entries"] + 2
    assert again["participants"]["total"] == first["participants"]["total"] + 1


def test_control_and_bidi_characters_show_as_escapes(web: Web) -> None:
    """Autoescaping stops markup, not a right-to-left override: a vendor named
    "Acme\\u202egnp.exe" would read reversed.  Pages show such characters as the command
    line does (\\u202e, \\x1b); newlines stay."""
    cases = web.desk.cases()
    cases.add_participant(CASE, "Acme\u202egnp.exe\x1b[2J", [Role.VENDOR],
                          email="psirt@rtl.example")
    cases.log_message(CASE, direction=Direction.INBOUND, channel=Channel.EMAIL,
                      subject="Re: \u2066hidden\u2069 \x9b31m", body="line one\nline two")
    page = web.login("coord@test.example").get(f"/cases/{CASE}").text
    assert "Acme\\u202egnp.exe\\x1b[2J" in page and "Re: \\u2066hidden\\u2069 \\x9b31m" in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", page)
