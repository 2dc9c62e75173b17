"""The demo dataset: realistic cases in different states, dated relative to today.

Everything goes through CaseService, so the demo exercises the same rules and
the same transactions as real work.  The fictional organizations are made up.
A vendor's reply or acknowledgement records its awareness (V) by itself, so the
demo never records V by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import DomainError
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    AttemptOutcome,
    Channel,
    Credit,
    Direction,
    Report,
    ReporterInfo,
    Retrospective,
    Role,
    SignalKind,
    VersionRange,
    Vulnerability,
)
from cvdesk.domain.rm import RMTrigger
from cvdesk.services.cases import CaseService
from cvdesk.services.database import counts
from cvdesk.services.progress import Progress, quiet

COORDINATOR = "demo-coordinator"
E, W, PH = Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE
SENT, BOUNCED, ACK, NOREPLY = (AttemptOutcome.SENT, AttemptOutcome.BOUNCED,
                               AttemptOutcome.ACKNOWLEDGED, AttemptOutcome.NO_REPLY)


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    participants: int
    events: int


def _report(title: str, vendor: str, product: str, days_found: str, *, reporter: str,
            email: str, tlp: TLP = TLP.AMBER, cve: str = "", cwe: str = "",
            fixed: str | None = None, introduced: str | None = None,
            last_affected: str | None = None, version_text: str = "",
            description: str = "", **extra: object) -> Report:
    """Every demo product names its versions as a finder would (the range it tested, the
    fixed release it knows of, or words for them): an advisory is not published without
    them (cvdesk.publish.build.unversioned_products)."""
    ranged = fixed or introduced or last_affected
    affected = AffectedProduct(product=product, vendor=vendor, version_text=version_text,
                               versions=(VersionRange(introduced=introduced, fixed=fixed,
                                                      last_affected=last_affected),)
                               if ranged else ())
    assert ranged or version_text, f"the demo names no versions of {product}"
    return Report(
        title=title, tlp=tlp, reporter=ReporterInfo(name=reporter, email=email),
        description=description or f"{title}. Found while testing {product}.",
        products=(affected,), how_found="manual testing", when_found=days_found,
        vulnerabilities=(Vulnerability(title=title, cve=cve, cwes=(cwe,) if cwe else (),
                                       affected=(affected,)),),
        wants_credit=True, share_contact=True, **extra)  # type: ignore[arg-type]


def load_demo(svc: CaseService, *, force: bool = False,
              progress: Progress = quiet) -> DemoSummary:
    """Write the demo cases; refused on a database that has cases unless ``force``."""
    existing = counts(svc.db).cases
    if existing and not force:
        raise DomainError(f"the database already has {existing} case(s); load the demo into "
                          "a fresh database, or force the load to add the demo cases anyway")
    now = svc.clock().replace(second=0, microsecond=0)

    def ago(days: float, hours: float = 0) -> datetime:
        return now - timedelta(days=days, hours=hours)

    builders = (_responsive_vendor, _unresponsive_vendor, _unreachable_vendor,
                _exploited_during_embargo, _closed_case, _fresh_report, _invalid_report,
                _multi_party, _legal_threat, _vendor_declined, _leaked, _embargo_ending,
                _independent_discovery, _finder_handoff, _public_before_vendor)
    progress(0, len(builders))
    for done, build in enumerate(builders, 1):
        build(svc, ago)
        progress(done, len(builders))

    total = counts(svc.db)
    return DemoSummary(total.cases, total.participants, total.events)


def _responsive_vendor(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """Going well: acknowledged in a day, embargo agreed, fix ready, advisory being drafted."""
    r = svc.submit_report(_report(
        "Authentication bypass in Acme RouterOS web interface", "Acme Networks",
        "Acme RouterOS", "during a home-lab audit", reporter="Dana Whitfield",
        email="dana@example.org", cwe="CWE-287", introduced="7.0", fixed="7.4.2"),
        at=ago(30), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Acme Networks").pid
        case.contact_attempt(vendor, E, SENT, at=ago(30, -1), actor=COORDINATOR,
                             address="psirt@acme.example")
        case.contact_reply(vendor, E, at=ago(29), actor=COORDINATOR, reason="PSIRT acknowledged")
        for t in (RMTrigger.VALIDATE, RMTrigger.ACCEPT):
            case.rm(vendor, t, at=ago(27), actor=COORDINATOR, reason="vendor reproduced it")
        case.propose_embargo(ago(30) + timedelta(days=45), at=ago(27), actor=COORDINATOR)
        for pid in (vendor, 2):
            case.consent(pid, ConsentTrigger.SIGN, at=ago(26), actor=COORDINATOR)
        case.accept_embargo(at=ago(26), actor=COORDINATOR, reason="vendor and reporter agree")
        case.record_cs(CSEvent.F, vendor, at=ago(5), actor=COORDINATOR,
                       reason="7.4.2 release candidate")
        case.contact_reply(vendor, E, at=ago(5), actor=COORDINATOR, reason="fix ready")


def _unresponsive_vendor(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """Vendor replied once, then went silent for weeks (guide 6.2)."""
    r = svc.submit_report(_report(
        "SQL injection in Globex HelpDesk ticket search", "Globex Software",
        "Globex HelpDesk", "bug bounty research", reporter="Ravi Menon",
        email="ravi@example.net", cwe="CWE-89", introduced="4.0", last_affected="4.6.3"),
        at=ago(70), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Globex Software").pid
        case.contact_attempt(vendor, E, SENT, at=ago(69), actor=COORDINATOR,
                             address="security@globex.example")
        case.contact_reply(vendor, E, at=ago(66), actor=COORDINATOR,
                           reason="support desk: 'forwarded to engineering'")
        case.contact_attempt(vendor, E, NOREPLY, at=ago(45), actor=COORDINATOR)
        case.contact_attempt(vendor, W, NOREPLY, at=ago(30), actor=COORDINATOR,
                             address="https://globex.example/contact")
        case.contact_attempt(vendor, E, NOREPLY, at=ago(16), actor=COORDINATOR)


def _unreachable_vendor(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """No working contact after attempts on three channels (guide 6.1)."""
    r = svc.submit_report(_report(
        "Hard-coded root password in Initech NetCam firmware", "Initech Devices",
        "Initech NetCam 2", "firmware analysis", reporter="Lena Kovac",
        email="lena.kovac@example.com", cwe="CWE-798", last_affected="2.1.7"), at=ago(25),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Initech Devices").pid
        case.contact_attempt(vendor, E, BOUNCED, at=ago(24), actor=COORDINATOR,
                             address="security@initech.example")
        case.contact_attempt(vendor, E, BOUNCED, at=ago(24), actor=COORDINATOR,
                             address="support@initech.example")
        case.contact_attempt(vendor, W, NOREPLY, at=ago(20), actor=COORDINATOR,
                             address="https://initech.example/support")
        case.contact_attempt(vendor, PH, NOREPLY, at=ago(12), actor=COORDINATOR,
                             reason="switchboard took a message")


def _exploited_during_embargo(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """Attacks seen while embargoed (guide 6.6), embargo still in force."""
    r = svc.submit_report(_report(
        "Remote code execution in Umbrella CMS gallery plugin", "Umbrella Web",
        "Umbrella CMS Gallery", "incident response", reporter="Tomás Rivera",
        email="tomas@example.org", cwe="CWE-434", fixed="3.2.1"), at=ago(40),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Umbrella Web").pid
        case.contact_attempt(vendor, E, ACK, at=ago(39), actor=COORDINATOR)
        case.propose_embargo(ago(40) + timedelta(days=45), at=ago(38), actor=COORDINATOR)
        case.accept_embargo(at=ago(37), actor=COORDINATOR)
        case.record_cs(CSEvent.A, None, at=ago(2), actor=COORDINATOR,
                       reason="hosting provider reports webshells")


def _closed_case(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """A finished case: fixed, deployed, published, closed."""
    r = svc.submit_report(_report(
        "Path traversal in Hooli Drive sync client", "Hooli", "Hooli Drive for Desktop",
        "code review", reporter="Priya Natarajan", email="priya@example.com",
        cve="CVE-2026-41234", cwe="CWE-22", fixed="5.9.0"), at=ago(120), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Hooli").pid
        case.contact_attempt(vendor, E, ACK, at=ago(119), actor=COORDINATOR)
        for t in (RMTrigger.VALIDATE, RMTrigger.ACCEPT):
            case.rm(vendor, t, at=ago(115), actor=COORDINATOR)
        case.propose_embargo(ago(120) + timedelta(days=45), at=ago(115), actor=COORDINATOR)
        case.accept_embargo(at=ago(114), actor=COORDINATOR)
        case.record_cs(CSEvent.F, vendor, at=ago(85), actor=COORDINATOR)
        case.record_cs(CSEvent.D, vendor, at=ago(76), actor=COORDINATOR,
                       reason="auto-update pushed")
        case.terminate_embargo(at=ago(75), actor=COORDINATOR, reason="planned publication")
        case.record_cs(CSEvent.P, None, at=ago(75), actor=COORDINATOR)
        case.rm(vendor, RMTrigger.CLOSE, at=ago(70), actor=COORDINATOR)
        case.close(at=ago(70), actor=COORDINATOR, reason="published and deployed")
        case.credit(Credit("Priya Natarajan", Role.FINDER, "found and reported the traversal",
                           True, 2), at=ago(70), actor=COORDINATOR)
        case.retrospective(Retrospective(
            went_well="vendor acknowledged in a day and shipped an auto-update before the date",
            went_wrong="the first advisory draft left out the affected versions",
            do_differently="send the draft advisory to the vendor two weeks ahead, not one"),
            at=ago(69), actor=COORDINATOR)


def _fresh_report(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    svc.submit_report(_report(
        "Stored XSS in Vandelay Importer admin console", "Vandelay Industries",
        "Vandelay Importer", "pentest for a customer", reporter="Art Vandelay Jr.",
        email="art@example.org", cwe="CWE-79", introduced="12.0", last_affected="12.4.1",
        tlp=TLP.AMBER_STRICT), at=ago(0, 3),
        actor=COORDINATOR)


def _invalid_report(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    r = svc.submit_report(_report(
        "Clickjacking on Stark Industries marketing site", "Stark Industries",
        "starkindustries.example", "browsing", reporter="anonymous",
        email="anon@example.net", tlp=TLP.GREEN,
        version_text="the live site as reported (a hosted site has no versions)"),
        at=ago(10), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        case.rm(1, RMTrigger.INVALIDATE, at=ago(9), actor=COORDINATOR,
                reason="static page, no state-changing actions: not a vulnerability")
        case.rm(1, RMTrigger.CLOSE, at=ago(9), actor=COORDINATOR)
        case.close(at=ago(9), actor=COORDINATOR, reason="invalid report")


_PREFIX = ["North", "Blue", "Iron", "Silver", "Red", "Open", "Bright", "Cedar", "Delta",
           "Echo", "Falcon", "Granite", "Harbor", "Indigo", "Juniper", "Kestrel", "Lumen",
           "Maple", "Nimbus", "Orbit"]
_SUFFIX = ["Linux", "Networks", "Appliances", "Cloud", "Systems", "Embedded", "Devices",
           "OS", "Labs", "Security", "Software", "Routers"]


def _multi_party(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """One upstream library, 240 downstream vendors (guide 6.10 rows 9, 16, 17)."""
    rng = random.Random(2026)
    r = svc.submit_report(_report(
        "Heap overflow in libquill TLS record parser", "libquill project", "libquill",
        "fuzzing", reporter="Mei Chen", email="mei@example.edu", cwe="CWE-122",
        introduced="2.0.0", fixed="2.8.4", tlp=TLP.AMBER_STRICT), at=ago(21),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        upstream = case.find_participant("libquill project").pid
        case.contact_attempt(upstream, E, ACK, at=ago(21, -2), actor=COORDINATOR)
        for t in (RMTrigger.VALIDATE, RMTrigger.ACCEPT):
            case.rm(upstream, t, at=ago(20), actor=COORDINATOR)
        names = [f"{p} {s}" for p in _PREFIX for s in _SUFFIX]
        rng.shuffle(names)
        downstream = []
        for name in names[:240]:
            p = case.add_participant(name, [Role.VENDOR], at=ago(18), actor=COORDINATOR,
                                     reason="ships libquill (dependency graph)")
            downstream.append(p.pid)
        case.add_participant("CERT/CC", [Role.COORDINATOR], at=ago(18), actor=COORDINATOR,
                             reason="helps reach the long tail of vendors")
        case.propose_embargo(ago(21) + timedelta(days=45), at=ago(17), actor=COORDINATOR,
                             invite=[upstream, 2, *downstream])
        case.consent(upstream, ConsentTrigger.SIGN, at=ago(17), actor=COORDINATOR)
        case.consent(2, ConsentTrigger.SIGN, at=ago(17), actor=COORDINATOR)
        case.accept_embargo(at=ago(16), actor=COORDINATOR)
        for i, pid in enumerate(downstream):
            case.contact_attempt(pid, E, SENT, at=ago(17, -rng.random()), actor=COORDINATOR)
            roll = rng.random()
            if roll < 0.55:
                case.contact_reply(pid, E, at=ago(15 - (i % 5)), actor=COORDINATOR)
                case.consent(pid, ConsentTrigger.SIGN, at=ago(10), actor=COORDINATOR)
            elif roll < 0.65:
                case.contact_attempt(pid, E, BOUNCED, at=ago(9), actor=COORDINATOR)
            else:
                case.contact_attempt(pid, E, NOREPLY, at=ago(9), actor=COORDINATOR)
        case.record_cs(CSEvent.F, upstream, at=ago(8), actor=COORDINATOR, reason="2.8.4 tagged")
        case.set_policy(upstream, 90, at=ago(8), actor=COORDINATOR, reason="SECURITY.md")
        for pid in downstream[:3]:
            case.set_policy(pid, 45, at=ago(8), actor=COORDINATOR, reason="vendor PSIRT policy")
        case.observe(SignalKind.UNKNOWN_DOWNSTREAM, at=ago(7), actor=COORDINATOR,
                     text="libquill is vendored into firmware images we cannot enumerate")

    # Through the service, as an arriving message is: it reads the words for hype itself.
    svc.log_message(r.case_id, direction=Direction.INBOUND, channel=E, at=ago(2),
                    subject="Talk accepted", participant="Mei Chen", actor=COORDINATOR,
                    body="Good news: my talk on this bug was accepted as a keynote. A "
                         "journalist already asked about it; I dubbed it QuillBleed.")


def _legal_threat(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """The vendor answers with a cease-and-desist; the reporter answers angrily (6.7, 6.9)."""
    r = svc.submit_report(_report(
        "Badge cloning in Wayne Security door controllers", "Wayne Security",
        "Wayne DoorLink 3", "red-team engagement", reporter="Nadia Ferreira",
        email="nadia@example.org", cwe="CWE-294", introduced="3.0", last_affected="3.8.2"),
        at=ago(18), actor=COORDINATOR)
    svc.contact_attempt(r.case_id, "Wayne Security", E, ACK, at=ago(17), actor=COORDINATOR)
    svc.log_message(r.case_id, direction=Direction.INBOUND, channel=E, participant="Wayne Security",
                    subject="Re: vulnerability report", at=ago(9), actor=COORDINATOR,
                    body="Our legal department considers your testing a violation of our "
                         "terms. This letter is a formal cease and desist; further "
                         "publication will lead to legal action.")
    svc.log_message(r.case_id, direction=Direction.INBOUND, channel=E, participant="p2",
                    subject="Re: Re: vulnerability report", at=ago(8), actor=COORDINATOR,
                    body="This is ridiculous. You people are incompetent and this is your "
                         "final warning before I go public!!!")


def _vendor_declined(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """The vendor will not fix an end-of-life product and calls it out of scope (row 7, 13)."""
    r = svc.submit_report(_report(
        "Command injection in Soylent FreshFridge diagnostics page", "Soylent Appliances",
        "FreshFridge FF-200", "weekend project", reporter="Oskar Berg", email="oskar@example.com",
        cwe="CWE-78", version_text="all versions"), at=ago(35), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Soylent Appliances").pid
        case.contact_attempt(vendor, E, ACK, at=ago(34), actor=COORDINATOR)
        case.rm(vendor, RMTrigger.VALIDATE, at=ago(30), actor=COORDINATOR)
        case.observe(SignalKind.OUT_OF_SCOPE, at=ago(12), actor=COORDINATOR,
                     participant=vendor, text="vendor: FF-200 is end of life and outside the "
                     "scope of our bug bounty")
        case.rm(vendor, RMTrigger.DEFER, at=ago(12), actor=COORDINATOR,
                reason="vendor will not fix an end-of-life model")


def _leaked(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """Details leaked and the issue went public during the embargo (6.4)."""
    r = svc.submit_report(_report(
        "Pre-auth file read in Cyberdyne SkyGate VPN", "Cyberdyne Systems",
        "SkyGate VPN", "patch diffing", reporter="Jonas Weber", email="jonas@example.de",
        cwe="CWE-22", introduced="9.0.0", fixed="9.1.3"), at=ago(26), actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Cyberdyne Systems").pid
        case.contact_attempt(vendor, E, ACK, at=ago(25), actor=COORDINATOR)
        case.propose_embargo(ago(26) + timedelta(days=45), at=ago(24), actor=COORDINATOR)
        case.accept_embargo(at=ago(24), actor=COORDINATOR)
        case.observe(SignalKind.LEAK, at=ago(3), actor=COORDINATOR,
                     url="https://paste.example/abc123",
                     text="a paste site shows the vulnerable endpoint and a partial request")
        case.record_cs(CSEvent.P, None, at=ago(2), actor=COORDINATOR,
                       reason="a blog post describes the bug")


def _embargo_ending(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """The embargo ends in days, no fix yet, and the reporter has gone quiet (rows 8, 10)."""
    r = svc.submit_report(_report(
        "Privilege escalation in Massive Dynamic NAS updater", "Massive Dynamic",
        "MD Vault NAS", "CTF follow-up", reporter="Ana Souza", email="ana@example.br",
        cwe="CWE-269", introduced="4.0.0", last_affected="4.2.1"), at=ago(40),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Massive Dynamic").pid
        case.contact_attempt(vendor, E, ACK, at=ago(39), actor=COORDINATOR)
        case.propose_embargo(ago(40) + timedelta(days=45), at=ago(38), actor=COORDINATOR)
        case.accept_embargo(at=ago(38), actor=COORDINATOR)
        case.contact_reply(2, E, at=ago(30), actor=COORDINATOR, reason="reporter sent a PoC")
        case.contact_attempt(2, E, NOREPLY, at=ago(12), actor=COORDINATOR,
                             reason="asked the reporter to test the beta fix")
        case.contact_attempt(2, E, NOREPLY, at=ago(7), actor=COORDINATOR,
                             reason="reminder: the beta fix is waiting for a test")
        case.contact_reply(vendor, E, at=ago(6), actor=COORDINATOR,
                           reason="vendor: fix slipped, QA still running")


def _independent_discovery(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """Two finders report the same bug during an embargo (6.5)."""
    first = svc.submit_report(_report(
        "Oscorp Telemetry SDK sends device tokens over plain HTTP", "Oscorp",
        "Oscorp Telemetry SDK", "traffic analysis", reporter="Lee Min-jun",
        email="minjun@example.kr", cwe="CWE-319", introduced="1.3.0", last_affected="1.6.2",
        description="The Oscorp Telemetry SDK uploads device tokens over plain HTTP to the "
                    "telemetry endpoint, so anyone on the path can read and replay them."),
        at=ago(15), actor=COORDINATOR)
    with svc.case(first.case_id) as case:
        vendor = case.find_participant("Oscorp").pid
        case.contact_attempt(vendor, E, ACK, at=ago(14), actor=COORDINATOR)
        case.propose_embargo(ago(15) + timedelta(days=45), at=ago(13), actor=COORDINATOR)
        case.accept_embargo(at=ago(13), actor=COORDINATOR)
    svc.submit_report(_report(
        "Cleartext device tokens in Oscorp Telemetry SDK uploads", "Oscorp",
        "Oscorp Telemetry SDK", "mobile app audit", reporter="Grace Adeyemi",
        email="grace@example.ng", cwe="CWE-319", introduced="1.6.0", last_affected="1.6.0",
        description="Device tokens are uploaded by the Oscorp Telemetry SDK without TLS; a "
                    "network attacker can read the tokens and replay them."),
        at=ago(1), actor=COORDINATOR)


def _finder_handoff(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """The finder cannot follow through, and the case has stalled (rows 1, 21)."""
    r = svc.submit_report(_report(
        "Unsigned updates in Tyrell Nexus smart thermostat", "Tyrell Corporation",
        "Nexus T6 thermostat", "student thesis", reporter="Rachel Tan",
        email="rachel@example.edu", cwe="CWE-347", last_affected="2.0.4"), at=ago(75),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        vendor = case.find_participant("Tyrell Corporation").pid
        case.contact_attempt(vendor, W, SENT, at=ago(74), actor=COORDINATOR)
        case.contact_reply(vendor, E, at=ago(60), actor=COORDINATOR)
        case.observe(SignalKind.FINDER_NEEDS_HANDOFF, at=ago(45), actor=COORDINATOR,
                     participant=2, text="finder: thesis submitted, no time or lab access "
                     "left; please take it over")


def _public_before_vendor(svc: CaseService, ago) -> None:  # type: ignore[no-untyped-def]
    """A conference talk made it public before anyone told the vendor (row 12)."""
    r = svc.submit_report(_report(
        "Weak PIN lockout in Gringotts Mobile banking app", "Gringotts Bank",
        "Gringotts Mobile", "conference talk", reporter="Viktor Petrov",
        email="viktor@example.bg", cwe="CWE-307", introduced="8.3.1", last_affected="8.3.1",
        public=True,
        public_urls=("https://talks.example/2026/pin-lockout",)), at=ago(6),
        actor=COORDINATOR)
    with svc.case(r.case_id) as case:
        case.record_cs(CSEvent.P, None, at=ago(6), actor=COORDINATOR,
                       reason="the talk was public before the report")
        case.add_participant("Gringotts Digital (app developer)", [Role.VENDOR], at=ago(5),
                             actor=COORDINATOR, reason="builds the app for the bank")
