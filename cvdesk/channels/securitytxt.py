"""security.txt (RFC 9116): validation and discovery (guide 4.2, finding a vendor contact).

The checks of the field syntax and the RFC's MUSTs come from ``sectxt`` (the
parser behind the Dutch Internet.nl checker), so cvdesk agrees with it.  On top,
cvdesk verifies an OpenPGP cleartext signature against a key it is given or
finds through the Encryption field, checks the HTTP side of a fetched file
(location, Content-Type, charset), and refuses oversized files before parsing.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from cvdesk.channels.fetch import FetchError, FetchPolicy, Response, fetch

MAX_BYTES = 64 * 1024
WELL_KNOWN = "/.well-known/security.txt"
LEGACY = "/security.txt"
FIELDS = ("contact", "expires", "encryption", "acknowledgments", "preferred-languages",
          "canonical", "policy", "hiring", "csaf")


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


def validate(content: bytes, *, urls: list[str] | None = None,
             keys: list[str] | None = None) -> SecurityTxt:
    """Check a security.txt. ``urls``: where it was fetched from (first and last of a
    redirect chain), for the Canonical check; ``keys``: ASCII-armoured public keys."""
    if len(content) > MAX_BYTES:
        return SecurityTxt(problems=[Problem("too_large", f"file is {len(content)} bytes; "
                                     f"cvdesk reads at most {MAX_BYTES}")])
    from sectxt import Parser  # imported late: it pulls in requests and PGPy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = Parser(content, urls=urls or None, recommend_unknown_fields=False)
    result = SecurityTxt()
    for kind, items in (("error", parser.errors), ("recommendation", parser.recommendations),
                        ("notice", parser.notifications)):
        result.problems.extend(Problem(i["code"], i["message"], kind, i.get("line"))
                               for i in items)
    values: dict[str, list[str]] = defaultdict(list)
    for line in parser.lines:
        if line.get("type") == "field" and line.get("field_name") in FIELDS:
            values[str(line["field_name"])].append(str(line["value"]))
    result.fields = dict(values)
    result.signature = _signature(content, keys or [])
    if result.signature.verified is False:
        result.problems.append(Problem("invalid_signature", result.signature.detail))
    return result


def _signature(content: bytes, keys: list[str]) -> Signature:
    text = content.decode("utf-8", errors="replace")
    if "-----BEGIN PGP SIGNED MESSAGE-----" not in text:
        return Signature()
    if not keys:
        return Signature(True, None, "signed, but no public key to check it against (give "
                         "one, or publish it at the Encryption URL)")
    from pgpy_dtc import PGPKey, PGPMessage
    from pgpy_dtc.errors import PGPError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            message = PGPMessage.from_blob(text)
        except (PGPError, ValueError) as exc:
            return Signature(True, False, f"the signed message cannot be read: {exc}")
        for armoured in keys:
            try:
                key, _ = PGPKey.from_blob(armoured)
            except (PGPError, ValueError):
                continue
            try:
                if key.pubkey.verify(message):
                    return Signature(True, True, f"good signature by key {key.fingerprint}")
                return Signature(True, False, f"bad signature: the text does not match the "
                                 f"signature of key {key.fingerprint}")
            except PGPError:
                continue  # signed by another key
    return Signature(True, False, "signed by none of the given public keys")


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


def discover(host: str, policy: FetchPolicy) -> SecurityTxt:
    """Fetch and check https://HOST/.well-known/security.txt, then /security.txt."""
    failures = []
    for path in (WELL_KNOWN, LEGACY):
        try:
            response = fetch(f"https://{host}{path}", policy, accept="text/plain")
        except FetchError as exc:
            failures.append(Problem(exc.code, str(exc)))
            if exc.code == "refused_address":
                break
            continue
        if response.status != 200:
            failures.append(Problem("not_found", f"{response.url}: HTTP {response.status}"))
            continue
        urls = [response.chain[0], response.url]
        signed = b"-----BEGIN PGP SIGNED MESSAGE-----" in response.body
        keys = _keys(response.body, policy) if signed else []
        result = validate(response.body, urls=urls, keys=keys)
        result.url = response.url
        result.problems[:0] = http_problems(response)
        return result
    return SecurityTxt(problems=[*failures, Problem(
        "no_security_txt", f"no security.txt at https://{host}{WELL_KNOWN} or {LEGACY}")])


def _keys(content: bytes, policy: FetchPolicy) -> list[str]:
    """Public keys from the Encryption URLs of a (not yet validated) file, https only."""
    keys = []
    for line in content.decode("utf-8", errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "encryption" and value.strip().startswith("https://"):
            try:
                got = fetch(value.strip(), policy, accept="application/pgp-keys, text/plain")
            except FetchError:
                continue
            if got.status == 200:
                keys.append(got.body.decode("ascii", errors="replace"))
    return keys


def provider_metadata(host: str, policy: FetchPolicy) -> dict[str, Any] | None:
    """The CSAF provider's publisher, from /.well-known/csaf/provider-metadata.json."""
    import json

    try:
        response = fetch(f"https://{host}/.well-known/csaf/provider-metadata.json", policy,
                         accept="application/json")
    except FetchError:
        return None
    if response.status != 200:
        return None
    try:
        data = json.loads(response.body)
        publisher = data["publisher"]
        return {"url": response.url, "name": str(publisher["name"]),
                "namespace": str(publisher["namespace"]),
                "category": str(publisher.get("category", "")),
                "canonical_url": str(data.get("canonical_url", ""))}
    except (ValueError, KeyError, TypeError):
        return {"url": response.url, "error": "not a CSAF provider-metadata document"}
