"""Tables. ``events`` is the append-only log; the other case tables are projections of it
written in the same transaction, so reads and sweeps never replay the log.

Every text column is ``SafeText`` (NUL-safe, see cvdesk.store.types).  Columns that hold
what a stranger wrote or sent (names, Message-IDs, content types, CVE ids, contact
values) have no length limit.  On PostgreSQL a B-tree key is limited to about 2.7 kB, so
those columns are looked up through hash indexes, and kept unique with hash exclusion
constraints instead of UNIQUE (``outsider_unique``, ``outsider_index``); SQLite has no
such limit and keeps plain UNIQUE constraints and indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Constraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cvdesk.store.types import JSONType, SafeString, SafeText, UTCDateTime

# Every text column replaces NUL on the way in (cvdesk.store.types).
Text, String = SafeText, SafeString


def outsider_unique(table: str, *columns: str) -> tuple[Constraint, Constraint]:
    """UNIQUE on SQLite; on PostgreSQL a hash exclusion constraint, which has no key size
    limit.  Several columns are joined into one expression (the first ones must never
    contain a space, e.g. ids and kinds)."""
    expr = (columns[0] if len(columns) == 1 else
            literal_column("(" + " || ' ' || ".join(f"{c}::text" for c in columns) + ")"))
    return (UniqueConstraint(*columns).ddl_if(dialect="sqlite"),
            ExcludeConstraint((expr, "="), using="hash", name=f"ex_{table}_{'_'.join(columns)}"
                              ).ddl_if(dialect="postgresql"))


def outsider_index(table: str, column: str) -> Index:
    """An equality lookup index: B-tree on SQLite, hash on PostgreSQL (no key size limit)."""
    return Index(f"ix_{table}_{column}", column, postgresql_using="hash")


def applies_to(obj: object, dialect: str) -> bool:
    """False for a constraint or index declared for another backend only (``ddl_if``);
    the migrations' comparison of tables and schema uses it."""
    ddl_if = getattr(obj, "_ddl_if", None)
    return ddl_if is None or ddl_if.dialect is None or ddl_if.dialect == dialect


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy's own hook)
        datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType,
        str: SafeText()}


class CaseRow(Base):
    __tablename__ = "cases"
    # The web desk's case list: open cases, latest activity first (migration 0014).
    __table_args__ = (Index("ix_cases_status_activity", "status", "last_event_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    em_state: Mapped[str] = mapped_column(String(16))
    embargo_end: Mapped[datetime | None]
    embargo_end_text: Mapped[str | None] = mapped_column(String(40))
    proposed_end_text: Mapped[str | None] = mapped_column(String(40))
    pxa: Mapped[str] = mapped_column(String(3))
    pxa_times: Mapped[dict[str, Any]]
    participants_count: Mapped[int] = mapped_column(Integer, default=0)
    vendors_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    # The troubleshooting sweep's index: a case is looked at again when its log changed
    # (needs_sweep) or when the clock reaches next_check_at.
    signals: Mapped[list[Any]] = mapped_column(default=list)
    # When the draft advisory was last sent for review (advisory.previewed): the
    # draft-sharing rule reads it from here in a sweep.
    draft_shared_at: Mapped[datetime | None]
    needs_sweep: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    swept_at: Mapped[datetime | None]
    # Each rule's own next check, written and read by the sweep only (store/findings.py
    # ``rule_checks_text``); NULL asks every rule.
    rule_checks: Mapped[str | None] = mapped_column(Text)


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("case_pk", "pid"),
                      Index("ix_participants_vendor_reply", "is_vendor", "last_reply_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(String(120))
    is_vendor: Mapped[bool] = mapped_column(Boolean)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    organization: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    rm_state: Mapped[str] = mapped_column(String(16))
    rm_at: Mapped[datetime | None]
    consent: Mapped[str] = mapped_column(String(16))
    vfd: Mapped[str] = mapped_column(String(3))
    vfd_times: Mapped[dict[str, Any]]
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_attempt_outcome: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempts_since_reply: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[str] = mapped_column(String(120), default="")
    channels_count: Mapped[int] = mapped_column(Integer, default=0)
    first_reply_at: Mapped[datetime | None]
    last_reply_at: Mapped[datetime | None]
    replies: Mapped[int] = mapped_column(Integer, default=0)
    policy_days: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_pk", "seq"), Index("ix_events_type", "type"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    participant: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class ReportRow(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(32), unique=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    received_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))
    form: Mapped[dict[str, Any]]


class ReportFingerprintRow(Base):
    """What the duplicate check (guide 6.5) compares for one report: its product keys and
    word counts (cvdesk.troubleshoot.similarity), stored so that a submit never decodes
    other reports' forms."""

    __tablename__ = "report_fingerprints"
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    data: Mapped[dict[str, Any]]


class ReportKeyRow(Base):
    """The keys a report is found under by the duplicate check (words, product keys and
    5-character grams of them); a submit reads only reports sharing a key."""

    __tablename__ = "report_keys"
    __table_args__ = (outsider_index("report_keys", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    key: Mapped[str] = mapped_column(Text)


class ReportWordRow(Base):
    """One word of a report's prefix (cvdesk.troubleshoot.similarity ``word_prefix``): its
    id, its share of the report's length and what is left of the report from it on.  Keyed
    by word, then tail, so that the duplicate check reads one range per word of the new
    report and adds up what two reports share without reading either report."""

    __tablename__ = "report_words"
    __table_args__ = ({"sqlite_with_rowid": False},)
    word_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tail: Mapped[float] = mapped_column(Float, primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), primary_key=True,
                                           autoincrement=False)
    weight: Mapped[float] = mapped_column(Float)


class ReportWordRarityRow(Base):
    """How many stored reports used a word when the reports' prefixes were last cut
    (cvdesk.store.word_order): the frozen snapshot that orders every prefix, rare words
    first.  Changed only by a refiling, which recuts every prefix in the same transaction."""

    __tablename__ = "report_word_rarity"
    word_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reports: Mapped[int] = mapped_column(Integer)


class VulnerabilityRow(Base):
    __tablename__ = "vulnerabilities"
    __table_args__ = (outsider_index("vulnerabilities", "cve"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    cve: Mapped[str | None] = mapped_column(Text)  # a report may bring it
    title: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = outsider_unique("messages", "message_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(Text)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    participant: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))


class OrganizationRow(Base):
    __tablename__ = "organizations"
    __table_args__ = outsider_unique("organizations", "name_key")
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    website: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class ContactRow(Base):
    __tablename__ = "contacts"
    __table_args__ = outsider_unique("contacts", "organization_id", "kind", "value")
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any] | None]


class CounterRow(Base):
    """Sequence numbers such as the case number of a year ('case-2026')."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class FindingRow(Base):
    """A troubleshooting finding as the desk tracks it across sweeps.

    One unresolved row per (case, key); a finding whose cause goes away is
    marked resolved and kept as history.
    """

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_case_status", "case_pk", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    key: Mapped[str] = mapped_column(String(120))
    problem: Mapped[str] = mapped_column(String(64))
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    handled_by: Mapped[str] = mapped_column(Text, default="")
    handled_reason: Mapped[str] = mapped_column(Text, default="")


class FindingKindRow(Base):
    """The fixed words of a kind of finding (problem, section, severity, phase, roles
    concerned, actions) as JSON text, named by its problem and a digest of the words:
    a sweep stores each finding with its kind's name and only the parts that vary
    (troubleshoot/stored.py)."""

    __tablename__ = "finding_kinds"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    data: Mapped[str] = mapped_column(Text)


class ImportedReferenceRow(Base):
    """The reference a past case was imported under (``cvdesk metrics import``), kept
    once: a second import of the same reference, even one running at the same moment,
    cannot add the case again."""

    __tablename__ = "imported_references"
    __table_args__ = outsider_unique("imported_references", "reference")
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(Text)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)


class CoordinatorRow(Base):
    """Directory of third-party coordinators a case can be handed to (guide 6.9)."""

    __tablename__ = "coordinators"
    __table_args__ = outsider_unique("coordinators", "name")
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class RetrospectiveRow(Base):
    """A case retrospective: went well / went wrong / do differently (guide 6.9)."""

    __tablename__ = "retrospectives"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    went_well: Mapped[str] = mapped_column(Text)
    went_wrong: Mapped[str] = mapped_column(Text)
    do_differently: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """A message waiting to go out, written in the same transaction as its cause.

    status: pending -> sending (a worker holds a lease) -> committed (written just before
    the SMTP end-of-data, so a crash before it means the server discarded the message)
    -> sent (right after the server's 250).  ``in_doubt`` marks a message whose worker died
    between those last two; ``logged`` says its contact attempt is in the case log.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      *outsider_unique("outbox", "idempotency_key"),
                      *outsider_unique("outbox", "message_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(Text)
    case_pk: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    participant: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    worker: Mapped[str] = mapped_column(Text, default="")  # host name and process
    last_error: Mapped[str] = mapped_column(Text, default="")
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    logged: Mapped[bool] = mapped_column(Boolean, default=False)  # attempt is in the case log
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AttachmentRow(Base):
    """A file that came with an inbound message."""

    __tablename__ = "attachments"
    __table_args__ = (outsider_index("attachments", "message_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class QuarantineRow(Base):
    """Inbound mail that could not be filed, kept whole with the reason (never dropped)."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    released: Mapped[bool] = mapped_column(Boolean, default=False)


class AdvisoryDocumentRow(Base):
    """One document of one published version of a case's advisory, kept byte for byte as
    it went out (issue 10): a later revision adds rows and never changes these."""

    __tablename__ = "advisory_documents"
    __table_args__ = (UniqueConstraint("case_pk", "version", "filename",
                                       name="uq_advisory_documents_file"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]


# ---------------------------------------------------------------- accounts (issue 11)

class UserRow(Base):
    """A person who signs in.  ``email`` is the login name, lower-cased; the password is
    stored as an argon2 hash only, and is empty until an invited user sets one."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # checked, at most 64 + 1 + 253
    name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text, default="")
    site_role: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"),
                                                         index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class CaseMemberRow(Base):
    """A user acting as one participant of one case: the reporter who sent the report,
    a vendor contact who followed an invitation.  (Users of an organization reach its
    cases through ``participants.organization_id`` without a row here.)"""

    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("user_id", "case_pk", "pid",
                                       name="uq_case_members_user_case_pid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class WebSessionRow(Base):
    """A signed-in browser.  The cookie holds a random token; only its SHA-256 is kept,
    so a copy of the database opens no session."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(Text, default="")


class ApiTokenRow(Base):
    """An API token: hashed at rest, scoped, expiring and revocable."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AccessLinkRow(Base):
    """A link sent by e-mail or shown once: a password reset or an invitation (used
    once), or a reporter's private link to its report (used many times).  Only the
    token's SHA-256 is kept."""

    __tablename__ = "access_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    case_pk: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class SignInFailureRow(Base):
    """Failed sign-ins per key (an account's e-mail, or a client address), for throttling."""

    __tablename__ = "sign_in_failures"
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class AuditRow(Base):
    """The audit log: every write through the desk's web face and API, and every read of
    an embargoed case (who, what, when, from which address).  Append-only."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
