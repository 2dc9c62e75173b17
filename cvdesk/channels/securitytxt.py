"""security.txt (RFC 9116): validation and discovery (guide 4.2, finding a vendor contact).

The checks of the field syntax and the RFC's MUSTs come from ``sectxt`` (the
parser behind the Dutch Internet.nl checker), so cvdesk agrees with it.  On top,
cvdesk verifies an OpenPGP cleartext signature against a key it is given or
finds through the Encryption field, checks the HTTP side of a fetched file
(location, Content-Type, charset), and refuses contact lines with control
characters.

A security.txt comes from a stranger's server, so the parser only ever sees a
bounded input, under a time limit: at most ``MAX_BYTES`` and ``MAX_LINES``, checked
in a separate process that is killed at the limit (see ``securitytxt_check``).  Real
files are a few hundred bytes and a few dozen lines; the limits leave ample room.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from cvdesk.channels import securitytxt_check
from cvdesk.channels.fetch import Deadline, FetchError, FetchPolicy, Response, fetch
from cvdesk.domain.safetext import parse_json

MAX_BYTES = 32 * 1024
MAX_LINES = 1000
MAX_KEYS = 3  # Encryption URLs fetched to check a signature
TIME_LIMIT = securitytxt_check.TIME_LIMIT
WELL_KNOWN = "/.well-known/security.txt"
LEGACY = "/security.txt"
FIELDS = ("contact", "expires", "encryption", "acknowledgments", "preferred-languages",
          "canonical", "policy", "hiring", "csaf")
_NAMES = {"csaf": "CSAF"}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    severity: str = "error"  # error (the file is not valid) | recommendation | notice
    line: int | None = None


@dataclass
class Signature:
    signed: bool = False
    verified: bool | None = None  # None: signed, but no key to check against
    detail: str = "not signed"


@dataclass
class SecurityTxt:
    """What a security.txt says, and every problem found, by name."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    signature: Signature = field(default_factory=Signature)
    url: str = ""

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def contacts(self) -> list[str]:
        return self.fields.get("contact", [])

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "url": self.url or None, "fields": self.fields,
                "signature": vars(self.signature),
                "problems": [vars(p) for p in self.problems]}


def control_characters(text: str) -> list[str]:
    """The control characters in ``text``, written visibly (``\\x1b``, ``\\u202e``).

    C0 (tab included), DEL and C1 controls, format characters (bidi overrides and
    isolates, zero-width characters) and the Unicode line and paragraph separators:
    none belongs in an address or a URL, and each can make a value shown to a person
    differ from the value a program uses."""
    found = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            if shown not in found:
                found.append(shown)
    return found


def validate(content: bytes, *, urls: list[str] | None = None,
             keys: list[str] | None = None, time_limit: float = TIME_LIMIT) -> SecurityTxt:
    """Check a security.txt. ``urls``: where it was fetched from (first and last of a
    redirect chain), for the Canonical check; ``keys``: ASCII-armoured public keys."""
    if len(content) > MAX_BYTES:
        return SecurityTxt(problems=[Problem("too_large", f"file is {len(content)} bytes; "
                                     f"cvdesk reads at most {MAX_BYTES}")])
    lines = content.count(b"\n") + (not content.endswith(b"\n"))
    if lines > MAX_LINES:
        return SecurityTxt(problems=[Problem("too_many_lines", f"file has {lines} lines; "
                                     f"cvdesk reads at most {MAX_LINES}")])
    found = securitytxt_check.check(content, list(urls or []), list(keys or []),
                                    time_limit=time_limit)
    if found is None:
        return SecurityTxt(problems=[Problem("check_timeout", "checking the file took "
                                     f"longer than {time_limit:g} s and was stopped")])
    if "crash" in found:
        return SecurityTxt(problems=[Problem("unreadable", "the file could not be checked "
                                     f"({found['crash']})")])
    result = SecurityTxt()
    for kind in ("error", "recommendation", "notice"):
        result.problems.extend(Problem(code, message, kind, line)
                               for code, message, line in found["problems"][kind])
    raw = _text(content).split("\n")
    values: dict[str, list[str]] = {}
    for number, name, value in found["fields"]:
        if name not in FIELDS:
            continue
        bad = control_characters(raw[number - 1].removesuffix("\r").rstrip(" \t"))
        if bad:
            label = _NAMES.get(name, name.title())
            result.problems.append(Problem(
                "control_character", f"the {label} line contains control characters "
                f"({', '.join(bad)}); the value is ignored", "error", number))
            continue
        values.setdefault(name, []).append(value)
    result.fields = values
    result.signature = Signature(*found["signature"])
    if result.signature.verified is False:
        result.problems.append(Problem("invalid_signature", result.signature.detail))
    return result


def _text(content: bytes) -> str:
    """The file as sectxt reads it: without a leading byte-order mark, bad UTF-8 replaced."""
    return content.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


def http_problems(response: Response) -> list[Problem]:
    """RFC 9116 requirements on how the file is served."""
    problems = []
    # Where it was asked for counts: RFC 9116 allows a redirect away from /.well-known/.
    if urlsplit(response.chain[0]).path == LEGACY:
        problems.append(Problem("location", "security.txt was found at the legacy path "
                                "/security.txt; it must be under /.well-known/"))
    media = response.headers.get("content-type")
    if not media:
        problems.append(Problem("no_content_type", "the HTTP Content-Type header is missing"))
    else:
        msg = Message()
        msg["content-type"] = media
        if msg.get_content_type() != "text/plain":
            problems.append(Problem("invalid_media", f"Content-Type is {media}; it must be "
                                    "text/plain"))
        charset = msg.get_param("charset")
        if not isinstance(charset, str) or charset.lower() != "utf-8":
            problems.append(Problem("invalid_charset", "Content-Type must say charset=utf-8"))
    return problems


def discover(host: str, policy: FetchPolicy, deadline: Deadline | None = None) -> SecurityTxt:
    """Fetch and check https://HOST/.well-known/security.txt, then /security.txt.

    Everything, both locations, the key fetches and the check, ends by ``deadline``
    (default: ``policy.discovery_seconds`` from now)."""
    deadline = deadline or Deadline(policy.discovery_seconds, "discovery")
    securitytxt_check.warm_up()  # starts while the network is busy
    failures = []
    for path in (WELL_KNOWN, LEGACY):
        if deadline.expired:
            failures.append(_late(deadline, f"https://{host}{path}"))
            break
        try:
            response = fetch(f"https://{host}{path}", policy, accept="text/plain",
                             deadline=deadline)
        except FetchError as exc:
            failures.append(Problem(exc.code, str(exc)))
            if exc.code == "refused_address" or deadline.expired:
                break
            continue
        if response.status != 200:
            failures.append(Problem("not_found", f"{response.url}: HTTP {response.status}"))
            continue
        urls = [response.chain[0], response.url]
        signed = b"-----BEGIN PGP SIGNED MESSAGE-----" in response.body
        keys = _keys(response.body, policy, deadline) if signed else []
        if deadline.expired:
            result = SecurityTxt(problems=[_late(deadline, f"checking {response.url}")])
        else:
            result = validate(response.body, urls=urls, keys=keys,
                              time_limit=min(TIME_LIMIT, deadline.remaining()))
        result.url = response.url
        result.problems[:0] = http_problems(response)
        return result
    return SecurityTxt(problems=[*failures, Problem(
        "no_security_txt", f"no security.txt at https://{host}{WELL_KNOWN} or {LEGACY}")])


def _late(deadline: Deadline, what: str) -> Problem:
    return Problem("timeout", str(deadline.error(what)))


def _keys(content: bytes, policy: FetchPolicy, deadline: Deadline) -> list[str]:
    """Public keys from the Encryption URLs of a (not yet validated) file, https only;
    the first ``MAX_KEYS`` of them, and none whose line holds control characters."""
    keys: list[str] = []
    tried = 0
    for line in _text(content[:MAX_BYTES]).split("\n"):
        name, _, value = line.partition(":")
        value = value.strip()
        if name.strip().lower() != "encryption" or not value.startswith("https://") \
                or control_characters(value):
            continue
        if tried == MAX_KEYS or deadline.expired:
            break
        tried += 1
        try:
            got = fetch(value, policy, accept="application/pgp-keys, text/plain",
                        deadline=deadline)
        except FetchError:
            continue
        if got.status == 200:
            keys.append(got.body.decode("ascii", errors="replace"))
    return keys


def provider_metadata(host: str, policy: FetchPolicy,
                      deadline: Deadline | None = None) -> dict[str, Any] | None:
    """The CSAF provider's publisher, from /.well-known/csaf/provider-metadata.json."""

    if deadline is not None and deadline.expired:
        return None
    try:
        response = fetch(f"https://{host}/.well-known/csaf/provider-metadata.json", policy,
                         accept="application/json", deadline=deadline)
    except FetchError:
        return None
    if response.status != 200:
        return None
    try:
        data = parse_json(response.body)
        publisher = data["publisher"]
        return {"url": response.url, "name": str(publisher["name"]),
                "namespace": str(publisher["namespace"]),
                "category": str(publisher.get("category", "")),
                "canonical_url": str(data.get("canonical_url", ""))}
    except (ValueError, KeyError, TypeError):
        return {"url": response.url, "error": "not a CSAF provider-metadata document"}
