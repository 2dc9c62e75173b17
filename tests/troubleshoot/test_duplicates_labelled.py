"""Duplicate-report detection (guide 6.5) on a labelled set of report pairs.

Every pair is labelled same vulnerability or not; the test measures precision
and recall of `similarity.match` and pins the exact confusion counts.
"""

from __future__ import annotations

from itertools import combinations

from cvdesk.domain.model import AffectedProduct, Report, ReporterInfo
from cvdesk.troubleshoot.similarity import fingerprint, match


def _r(title: str, description: str, vendor: str, product: str, purl: str = "") -> Report:
    return Report(title=title, description=description, reporter=ReporterInfo(name="x"),
                  products=(AffectedProduct(product=product, vendor=vendor, purl=purl),))


# key -> report; reports sharing the part before '/' describe the same vulnerability.
REPORTS = {
    "plug-upload/a": _r("Unauthenticated firmware upload in Contoso SmartPlug",
                        "The local HTTP API accepts firmware images on /api/fw without "
                        "authentication and flashes them without checking a signature.",
                        "Contoso Home", "SmartPlug P100"),
    "plug-upload/b": _r("Contoso SmartPlug P100 accepts unsigned firmware",
                        "Anyone on the LAN can POST a firmware image to /api/fw; no "
                        "authentication and no signature check before flashing.",
                        "Contoso", "SmartPlug P100"),
    "plug-xss/a": _r("Stored XSS in Contoso SmartPlug device name",
                     "The device name field in the web UI is rendered without escaping.",
                     "Contoso Home", "SmartPlug P100"),
    "sdk-http/a": _r("Oscorp Telemetry SDK sends device tokens over plain HTTP",
                     "Tokens are uploaded over HTTP, so anyone on the path can read and "
                     "replay them.", "Oscorp", "Telemetry SDK", "pkg:maven/com.oscorp/telemetry"),
    "sdk-http/b": _r("Cleartext device tokens in Oscorp telemetry uploads",
                     "The telemetry library uploads device tokens without TLS; a network "
                     "attacker can read the tokens and replay them.", "Oscorp",
                     "Oscorp Telemetry SDK", "pkg:maven/com.oscorp/telemetry@2.1.0"),
    "sdk-crash/a": _r("Crash in Oscorp Telemetry SDK on malformed config",
                      "A config file with an empty endpoint crashes the SDK at start-up.",
                      "Oscorp", "Telemetry SDK", "pkg:maven/com.oscorp/telemetry"),
    "quill-heap/a": _r("Heap overflow in libquill TLS record parser",
                       "A TLS record with a crafted length field overflows a heap buffer in "
                       "quill_parse_record.", "libquill project", "libquill"),
    "quill-heap/b": _r("libquill: out-of-bounds write parsing TLS records",
                       "quill_parse_record trusts the record length and writes past the heap "
                       "buffer for crafted TLS records.", "", "libquill"),
    "nas-priv/a": _r("Privilege escalation in MD Vault NAS updater",
                     "The updater runs a world-writable script as root.", "Massive Dynamic",
                     "MD Vault NAS"),
    "router-auth/a": _r("Authentication bypass in Acme RouterOS web interface",
                        "Adding a trailing slash to admin URLs skips the session check.",
                        "Acme Networks", "Acme RouterOS"),
    "router-auth-other/a": _r("Authentication bypass in Initech router web interface",
                              "Adding a trailing slash to admin URLs skips the session check.",
                              "Initech", "Initech EdgeRouter"),
    "cam-pass/a": _r("Hard-coded root password in Initech NetCam firmware",
                     "The firmware ships a fixed root password usable over telnet.",
                     "Initech Devices", "NetCam 2"),
}


def _same(a: str, b: str) -> bool:
    return a.split("/")[0] == b.split("/")[0]


def test_duplicate_detection_precision_and_recall() -> None:
    prints = {k: fingerprint(r) for k, r in REPORTS.items()}
    tp, fp, fn, tn = [], [], [], []
    for a, b in combinations(sorted(REPORTS), 2):
        found = match(prints[a], prints[b]) is not None
        truth = _same(a, b)
        (tp if found and truth else fp if found else fn if truth else tn).append((a, b))
    assert len(tp) + len(fn) == 3  # the three true duplicate pairs
    precision = len(tp) / (len(tp) + len(fp))
    recall = len(tp) / (len(tp) + len(fn))
    assert fp == [("router-auth-other/a", "router-auth/a")], \
        "known false positive: same wording, different products"
    assert fn == []
    assert precision == 0.75 and recall == 1.0
    assert len(tn) == 62


def test_match_explains_itself() -> None:
    found = match(fingerprint(REPORTS["plug-upload/b"]), fingerprint(REPORTS["plug-upload/a"]))
    assert found is not None
    assert "smartplug p100" in found.same_product
    assert 0 < found.text_similarity <= 1


def test_same_product_different_bug_is_not_a_match() -> None:
    assert match(fingerprint(REPORTS["plug-xss/a"]), fingerprint(REPORTS["plug-upload/a"])) \
        is None
    assert match(fingerprint(REPORTS["sdk-crash/a"]), fingerprint(REPORTS["sdk-http/a"])) is None
