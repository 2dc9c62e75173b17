"""Accounts (issue 11): sign-in, throttling, sessions, tokens, links and per-case access,
on both backends."""

from __future__ import annotations

import pytest

from cvdesk.domain.accounts import (
    CaseHidden,
    LinkPurpose,
    SiteRole,
    TokenScope,
    WeakPassword,
)
from cvdesk.domain.errors import InvalidInput, NotAllowed, NotSignedIn, TooManyAttempts, codes
from cvdesk.domain.model import Role
from cvdesk.services.accounts import AccountService
from cvdesk.services.cases import CaseService

PW = "correct horse battery staple"


@pytest.fixture
def accounts(service: CaseService) -> AccountService:
    return AccountService(service.db, service.settings, clock=service.clock)


def test_sign_in_gives_a_session_and_wrong_passwords_do_not(accounts: AccountService) -> None:
    user = accounts.create_user("Ana@Example.org", "Ana", PW, site_role=SiteRole.COORDINATOR)
    assert user.email == "ana@example.org"
    signed = accounts.sign_in("ANA@example.org", PW, address="127.0.0.1")
    p = accounts.session_principal(signed.token)
    assert p.user_id == user.id and p.is_staff
    with pytest.raises(NotSignedIn, match="wrong e-mail or password"):
        accounts.sign_in("ana@example.org", "wrong password!!")
    with pytest.raises(NotSignedIn, match="wrong e-mail or password"):
        accounts.sign_in("nobody@example.org", PW)
    accounts.sign_out(signed.token)
    with pytest.raises(NotSignedIn):
        accounts.session_principal(signed.token)


def test_repeated_failures_lock_the_account_for_a_while(accounts: AccountService,
                                                        service: CaseService) -> None:
    accounts.create_user("bo@example.org", "Bo", PW)
    for _ in range(5):
        with pytest.raises(NotSignedIn):
            accounts.sign_in("bo@example.org", "not the password")
    with pytest.raises(TooManyAttempts) as refused:
        accounts.sign_in("bo@example.org", PW)  # even the right one
    assert codes(refused.value) == (1, 429)
    service.clock.advance(minutes=16)
    assert accounts.sign_in("bo@example.org", PW).user.email == "bo@example.org"


@pytest.mark.parametrize("login", [
    "a" * 64 + "@" + "b" * 253,        # the longest address an account can have
    "x" * 5000,                          # not an address at all
    "y" * 400 + "@example.org",
])
def test_a_long_login_is_refused_and_counted_like_any_other(accounts: AccountService,
                                                            login: str) -> None:
    """A sign-in key longer than the failure table's key failed the write on PostgreSQL
    (an error page instead of 'wrong e-mail or password'); it is now kept by digest,
    so its failures count and lock it as any other's."""
    for _ in range(5):
        with pytest.raises(NotSignedIn, match="wrong e-mail or password"):
            accounts.sign_in(login, "not the password", address="192.0.2.9")
    with pytest.raises(TooManyAttempts):
        accounts.sign_in(login, "not the password", address="192.0.2.9")


def test_failure_keys_fit_and_stay_apart() -> None:
    from cvdesk.store.accounts import FAILURE_KEY_MAX, failure_key

    short = "account:" + "a" * (FAILURE_KEY_MAX - 8)
    assert failure_key(short) == short
    one, two = "account:" + "z" * 400, "account:" + "z" * 399 + "y"
    assert len(failure_key(one)) <= FAILURE_KEY_MAX
    assert failure_key(one) != failure_key(two) and failure_key(one) == failure_key(one)


def test_passwords_are_hashed_and_weak_ones_refused(accounts: AccountService) -> None:
    with pytest.raises(WeakPassword, match="at least 12"):
        accounts.create_user("cy@example.org", "Cy", "short")
    with pytest.raises(InvalidInput, match="e-mail"):
        accounts.create_user("not an address", "Cy", PW)
    accounts.create_user("cy@example.org", "Cy", PW)
    with pytest.raises(InvalidInput, match="exists already"):
        accounts.create_user("CY@example.org", "Cy", PW)


def test_tokens_are_scoped_expiring_and_revocable(accounts: AccountService,
                                                  service: CaseService) -> None:
    accounts.create_user("di@example.org", "Di", PW, site_role=SiteRole.COORDINATOR)
    me = accounts.sign_in("di@example.org", PW).principal
    new = accounts.create_token(me, "ci", TokenScope.READ, days=1)
    assert new.secret.startswith("cvd_")
    p = accounts.token_principal(new.secret)
    assert p.scope is TokenScope.READ and p.user_id == me.user_id
    accounts.revoke_token(me, new.token.id)
    with pytest.raises(NotSignedIn):
        accounts.token_principal(new.secret)
    other = accounts.create_token(me, "later", TokenScope.WRITE, days=1)
    service.clock.advance(days=2)
    with pytest.raises(NotSignedIn):
        accounts.token_principal(other.secret)


def test_reset_link_works_once_and_ends_sessions(accounts: AccountService) -> None:
    accounts.create_user("ed@example.org", "Ed", PW)
    old = accounts.sign_in("ed@example.org", PW)
    assert accounts.request_reset("nobody@example.org") is None
    link = accounts.request_reset("ed@example.org")
    assert link
    new = accounts.use_password_link(link, "another long passphrase")
    with pytest.raises(NotSignedIn):
        accounts.session_principal(old.token)
    assert accounts.session_principal(new.token).user_id == old.user.id
    with pytest.raises(NotSignedIn):
        accounts.use_password_link(link, "yet another long passphrase")


def test_vendor_users_see_their_organizations_cases_only(accounts: AccountService,
                                                         service: CaseService) -> None:
    from cvdesk.domain.model import Report, ReporterInfo

    one = service.submit_report(Report(title="Router flaw", description="d",
                                       reporter=ReporterInfo("Finder"),
                                       vendors=("ACME",))).case_id
    two = service.submit_report(Report(title="Other flaw", description="d",
                                       reporter=ReporterInfo("Finder"),
                                       vendors=("Globex",))).case_id
    accounts.create_user("psirt@acme.example", "ACME PSIRT", PW, organization="ACME")
    acme = accounts.sign_in("psirt@acme.example", PW).principal
    access = accounts.access(acme, one)
    assert access.is_vendor and not access.staff
    with pytest.raises(CaseHidden) as hidden:
        accounts.access(acme, two)
    assert isinstance(hidden.value, NotAllowed)
    # a reporter's private link opens its own case, as its own participant only
    reporter_pid = next(iter(accounts.access(
        accounts.sign_in(accounts.create_user("co@example.org", "Co", PW,
                                              site_role=SiteRole.COORDINATOR).email,
                         PW).principal, one).pids), None)
    assert reporter_pid is None  # staff act as nobody in particular
    view = service.show(one)
    finder = next(p for p in view.participants if "reporter" in p.roles or "finder" in p.roles)
    token = accounts.issue_link(LinkPurpose.REPORT, case_id=one, pid=finder.pid)
    linked = accounts.link_principal(token)
    assert accounts.access(linked, one).is_reporter
    with pytest.raises(CaseHidden):
        accounts.access(linked, two)
    assert Role.VENDOR not in accounts.access(linked, one).roles


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/" + "x" * 300, "z" * 5000])
def test_user_create_refuses_what_is_not_a_zone_naming_the_field(cli, zone: str,  # type: ignore[no-untyped-def]
                                                                  ) -> None:
    """A name too long for a file of the zone database made the zone look-up fail with
    "File name too long" (a crash, exit 1); it is refused like any other non-zone."""
    cli.monkeypatch.setenv("CVDESK_NEW_PASSWORD", PW)
    code, out, err = cli("user", "create", "tz@example.org", "--name", "T", "--time-zone",
                         zone)
    assert code == 2 and out == "", err
    assert "time zone:" in err and "is not a time zone name" in err
    code, out, _ = cli("user", "create", "tz@example.org", "--name", "T", "--time-zone",
                       "Europe/Berlin")
    assert code == 0 and "created member account tz@example.org" in out
