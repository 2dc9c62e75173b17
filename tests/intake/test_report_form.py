"""The report form read from careless input: what is accepted, and how each mistake is said.

Every refused form must name the field by its path in the file and say, in the
form's own words, what to write instead; no message may show a library's
internals (Python class names, pydantic phrasing, type names).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cvdesk.domain.codec import report_from_dict, to_jsonable
from cvdesk.domain.model import TLP, ReporterInfo, VersionRange
from cvdesk.intake import FormError, load_report_bytes, load_report_file, parse_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE_YAML = "title: t\ndescription: d\nreporter: {name: n}\n"
BASE = {"title": "t", "description": "d", "reporter": {"name": "n"}}
INTERNALS = ("_Product", "_Range", "_Reporter", "_Form", "_Vulnerability", "constrained",
             "instance of", "Input should", "pydantic", "errors.pydantic.dev", "NoneType",
             "dict", "str", "Value error", "Traceback")


def yaml_form(extra: str) -> bytes:
    return (BASE_YAML + extra).encode()


def json_form(**extra: object) -> bytes:
    return json.dumps({**BASE, **extra}).encode()


def problems(raw: bytes, fmt: str) -> list[tuple[str, str]]:
    with pytest.raises(FormError) as caught:
        load_report_bytes(raw, fmt, "form")
    for field, message in caught.value.problems:
        for word in INTERNALS:
            assert word not in message, (word, field, message)
    return caught.value.problems


@pytest.mark.parametrize("name", ["report.yaml", "report.json"])
def test_the_examples_read_and_round_trip(name: str) -> None:
    report = load_report_file(EXAMPLES / name)
    assert report_from_dict(json.loads(json.dumps(to_jsonable(report)))) == report


def test_the_yaml_example_has_exact_versions_and_a_range() -> None:
    report = load_report_file(EXAMPLES / "report.yaml")
    assert report.products[0].versions == (VersionRange("1.0", None, "1.8.3"),)
    assert report.vulnerabilities[0].affected[0].versions == (
        VersionRange("1.8.2", None, "1.8.2"), VersionRange("1.8.3", None, "1.8.3"))


# ------------------------------------------------------------------ mistakes, one line each
MISTAKES = [
    # (form, format, [(field path, words in the message)])
    (b"title: t\n", "yaml", [("description", "required field is missing"),
                            ("reporter", "required field is missing")]),
    (yaml_form("exploit: [a, b]\n"), "yaml", [("exploit", "expected text, not a list")]),
    (yaml_form("vendor: [x]\ndiscloure_date: 2027-01-01T00:00Z\n"), "yaml",
     [("vendor", "unknown field; did you mean 'vendors'?"),
      ("discloure_date", "did you mean 'disclosure_date'?")]),
    (yaml_form("howFound: fuzzing\nTitle: x\n"), "yaml",
     [("howFound", "did you mean 'how_found'?"), ("Title", "did you mean 'title'?")]),
    (yaml_form("email: a@b.org\n"), "yaml", [("email", "did you mean 'reporter.email'?")]),
    (yaml_form("tlp: orange\n"), "yaml", [("tlp", "'orange' is not a TLP label; use CLEAR")]),
    (yaml_form("tlp: true\n"), "yaml", [("tlp", "expected text, found true")]),
    (yaml_form("disclosure_date: 2027-02-01 18:00\n"), "yaml",
     [("disclosure_date", "has no time zone; add one")]),
    (yaml_form("disclosure_date: 2027-02-01\n"), "yaml",
     [("disclosure_date", "has no time or time zone")]),
    (yaml_form("disclosure_date: next tuesday\n"), "yaml",
     [("disclosure_date", "is not a date and time; write ISO 8601")]),
    (yaml_form("public: no\n"), "yaml", [("public", "write true or false")]),
    (yaml_form("share_contact: Yes\nwants_credit: 1\nexploited: 'true'\n"), "yaml",
     [("share_contact", "write true or false"), ("wants_credit", "expected true or false"),
      ("exploited", "without quotes")]),
    (json_form(public="false"), "json", [("public", "write true or false without quotes")]),
    (json_form(public="true", exploited=0), "json",
     [("public", "without quotes"), ("exploited", "expected true or false, found a number")]),
    (yaml_form("products:\n  - product: P\n    purl: nope\n"), "yaml",
     [("products[0].purl", "'nope' is not a package URL")]),
    (yaml_form("products:\n  - product: P\n  - product: Q\n    cpe: cpe:/a:q:q\n"), "yaml",
     [("products[1].cpe", "CPE 2.2 name; write the CPE 2.3 form")]),
    (yaml_form("products:\n  - name: Plug\n    version: '1.0'\n"), "yaml",
     [("products[0].name", "did you mean 'product'?"),
      ("products[0].version", "did you mean 'versions'?")]),
    (yaml_form("products:\n  - product: P\n    versions: ['>= 1.0', 1.x, '1.0 - 1.8', "
               "2.0 and later, '*', '1.0, 1.1']\n"), "yaml",
     [("products[0].versions[0]", "is a range, not one version"),
      ("products[0].versions[1]", "is a wildcard"),
      ("products[0].versions[2]", "is more than one version"),
      ("products[0].versions[3]", "is more than one version"),
      ("products[0].versions[4]", "{introduced: '0'}"),
      ("products[0].versions[5]", "write one per list entry")]),
    (yaml_form("products:\n  - product: P\n    versions:\n      - {from: 1.0, to: 2.0}\n"
               "      - {introduced: 1.0, fixed: 1.0}\n      - {fixed: 2, last_affected: 3}\n"
               "      - {}\n"), "yaml",
     [("products[0].versions[0].from", "did you mean 'introduced'?"),
      ("products[0].versions[0].to", "did you mean 'last_affected'?"),
      ("products[0].versions[1].fixed", "no version is affected"),
      ("products[0].versions[2]", "either 'fixed' or 'last_affected'"),
      ("products[0].versions[3]", "a range needs introduced, fixed or last_affected")]),
    (yaml_form("vulnerabilities:\n  - title: X\n    cwes: [79, 'CWE-79, CWE-80']\n"
               "    cve: CVE-26-1\n  - cwe: CWE-1\n"), "yaml",
     [("vulnerabilities[0].cwes[1]", "write one per list entry"),
      ("vulnerabilities[0].cve", "is not a CVE id (CVE-YYYY-NNNN)"),
      ("vulnerabilities[1].cwe", "did you mean 'cwes'?"),
      ("vulnerabilities[1].title", "required field is missing")]),
    (yaml_form("public_urls: [www.example.org/post]\n"), "yaml",
     [("public_urls[0]", "not a web address (http:// or https://); add https://")]),
    (yaml_form("public_urls: https://example.org/x\npublic: false\n"), "yaml",
     [("public_urls", "given, but public is false")]),
    (yaml_form("exploit:\n  curl: -F x\n"), "yaml",
     [("exploit", "expected text, not field: value pairs")]),
    (yaml_form("vendors:\n  -\n  - Contoso\n"), "yaml",
     [("vendors[0]", "empty entry; remove it or fill it in")]),
    (yaml_form("title: again\n"), "yaml", [("title", "given more than once (again on line 4)")]),
    (b'{"title": "t", "title": "u", "description": "d", "reporter": {"name": "n", '
     b'"name": "m"}}', "json", [("title", "given more than once"),
                               ("reporter.name", "given more than once")]),
    (json_form(products=["p"] * 501), "json",
     [("products", "too many products (501; at most 500)")]),
    (json_form(title="x" * 301), "json", [("title", "too long (301 characters; at most 300)")]),
    (json_form(title="a\u0000b"), "json", [("title", "contains a NUL character")]),
    (b'{"title": "t\\ud800", "description": "d", "reporter": "n"}', "json",
     [("title", "unpaired UTF-16 surrogate")]),
    (json_form(reporter={"name": "n", "email": "nope"}), "json",
     [("reporter.email", "not an e-mail address ('nope')")]),
    (json_form(reporter=["n"]), "json",
     [("reporter", "expected the reporter as field: value pairs (name, email, ...), found a "
                   "list")]),
    (json_form(products=[["a", "b"]], vulnerabilities=[[]]), "json",
     [("products[0]", "expected a product (its name, or field: value pairs), found a list"),
      ("vulnerabilities[0]", "expected a vulnerability (its title, or field: value pairs)")]),
    (json_form(**{"\x1b[31mred": 1}), "json", [("'\\x1b[31mred'", "unknown field")]),
    (b"- title: t\n", "yaml", [("(file)", "the form must be a mapping of field names")]),
    (b"# nothing but a comment\n", "yaml", [("(file)", "the form is empty")]),
]


@pytest.mark.parametrize(("raw", "fmt", "expected"), MISTAKES)
def test_each_mistake_is_one_line_naming_the_field(raw: bytes, fmt: str,
                                                   expected: list[tuple[str, str]]) -> None:
    got = problems(raw, fmt)
    assert [field for field, _ in got] == [field for field, _ in expected], got
    for (_, message), (_, words) in zip(got, expected, strict=True):
        assert words in message, (words, message)


def test_the_problem_list_is_capped() -> None:
    raw = json.dumps({f"unknown{i}": 1 for i in range(100)}).encode()
    got = problems(raw, "json")
    assert len(got) == 31 and got[-1] == ("(file)", "... and 73 more problem(s)")


# ------------------------------------------------------------------ natural spellings accepted
@pytest.mark.parametrize(("written", "label"), [
    ("amber", TLP.AMBER), ("TLP:AMBER", TLP.AMBER), ("'TLP: amber+strict'", TLP.AMBER_STRICT),
    ("amber strict", TLP.AMBER_STRICT), ("AMBER_STRICT", TLP.AMBER_STRICT),
    ("amber-strict", TLP.AMBER_STRICT), ("' Green '", TLP.GREEN), ("tlp:red", TLP.RED),
    ("WHITE", TLP.CLEAR), ("TLP:CLEAR", TLP.CLEAR),
])
def test_tlp_spellings(written: str, label: TLP) -> None:
    assert load_report_bytes(yaml_form(f"tlp: {written}\n"), "yaml").tlp is label


def test_plain_versions_mean_exactly_those_versions() -> None:
    report = load_report_bytes(yaml_form(
        "products:\n  - product: P\n    versions: ['1.0', 1.10, 2019 R2, v1.2-beta, "
        "{version: 3.1}, {introduced: 4.0, fixed: 4.2}]\n"), "yaml")
    assert report.products[0].versions == (
        VersionRange("1.0", None, "1.0"), VersionRange("1.10", None, "1.10"),
        VersionRange("2019 R2", None, "2019 R2"), VersionRange("v1.2-beta", None, "v1.2-beta"),
        VersionRange("3.1", None, "3.1"), VersionRange("4.0", "4.2", None))
    one = load_report_bytes(json_form(products=[{"product": "P", "versions": "1.0"}]), "json")
    assert one.products[0].versions == (VersionRange("1.0", None, "1.0"),)


def test_yaml_words_that_yaml_1_1_made_booleans_stay_text() -> None:
    report = load_report_bytes(yaml_form(
        "credit_as: no\nvendors: [NO, yes, on, off]\nreported_to: [Y, n]\n"), "yaml")
    assert report.credit_as == "no"
    assert report.vendors == ("NO", "yes", "on", "off")
    assert report.reported_to == ("Y", "n")


def test_numbers_are_kept_as_written_where_text_is_expected() -> None:
    report = load_report_bytes(yaml_form(
        "tracking_ids: [12345, 0x1F, 1e3, 007]\n"
        "when_found: 2026-10-30\n"), "yaml")
    phone = b"title: t\ndescription: d\nreporter: {name: n, phone: 0612345678}\n"
    assert load_report_bytes(phone, "yaml").reporter.phone == "0612345678"
    assert report.tracking_ids == ("12345", "0x1F", "1e3", "007")
    assert report.when_found == "2026-10-30"
    huge = b'{"title": ' + b"9" * 250 + b', "description": 1e999, "reporter": "n"}'
    report = load_report_bytes(huge, "json")
    assert report.title == "9" * 250 and report.description == "1e999"


def test_a_single_entry_may_drop_the_list_and_text_may_stand_for_an_object() -> None:
    report = load_report_bytes(b"title: t\ndescription: d\nreporter: Sam Okafor\n"
                               b"vendors: Contoso\n", "yaml")
    assert report.reporter == ReporterInfo(name="Sam Okafor")
    assert report.vendors == ("Contoso",)
    report = load_report_bytes(yaml_form(
        "products: {product: P, versions: {introduced: '1.0'}}\nvulnerabilities: XSS\n"
        "public_urls: https://example.org/x\n"), "yaml")
    assert report.products[0].versions == (VersionRange("1.0"),)
    assert report.vulnerabilities[0].title == "XSS"
    assert report.public is True  # the evidence implies the claim when it is not stated


def test_ids_addresses_and_dates_in_their_common_spellings() -> None:
    report = load_report_bytes(yaml_form(
        "vulnerabilities:\n  - {title: X, cve: cve-2026-1234, cwes: [79, cwe-89, CWE_20, "
        "CWE-79]}\ndisclosure_date: 2027-02-01 18:00 UTC\n"), "yaml")
    mail = b"title: t\ndescription: d\nreporter: {name: n, email: 'mailto:Sam@Example.org'}"
    assert load_report_bytes(mail, "yaml").reporter.email == "Sam@Example.org"
    assert report.vulnerabilities[0].cve == "CVE-2026-1234"
    assert report.vulnerabilities[0].cwes == ("CWE-79", "CWE-89", "CWE-20")
    assert report.disclosure_date == datetime(2027, 2, 1, 18, 0, tzinfo=UTC)
    for written, offset in (("2027-02-01T18:00:00+01:00", 1), ("2027-02-01T18:00Z", 0),
                            ("2027-02-01 18:00 -05:00", -5)):
        when = load_report_bytes(yaml_form(f"disclosure_date: {written}\n"), "yaml")
        assert when.disclosure_date is not None
        assert when.disclosure_date.utcoffset() == timedelta(hours=offset)
    assert load_report_bytes(yaml_form("disclosure_date: 2027-02-01T18:00+01:00\n"),
                             "yaml").disclosure_date == datetime(
        2027, 2, 1, 18, tzinfo=timezone(timedelta(hours=1)))


def test_parse_report_takes_python_values_too() -> None:
    report = parse_report({**BASE, "disclosure_date": datetime(2027, 1, 1, tzinfo=UTC),
                           "tracking_ids": [10 ** 50], "public": True})
    assert report.tracking_ids == (str(10 ** 50),)
    assert report.public and report.disclosure_date == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(FormError) as caught:
        parse_report({**BASE, "products": [{"product": "P", "versions": [1.10]}],
                      "disclosure_date": datetime(2027, 1, 1), 7: "x",
                      "tracking_ids": [10 ** 5000]})
    assert caught.value.problems == [
        ("(file)", "field names must be text, found a number"),
        ("products[0].versions[0]", "expected text, found a number; put it in quotes so it "
                                    "keeps its digits"),
        ("disclosure_date", "has no time zone; add one, e.g. +01:00, or Z for UTC"),
        ("tracking_ids[0]", "expected text, found a number with too many digits")]


@pytest.mark.parametrize(("extra", "field", "says"), [
    ({"vendors": ["v"] * 501}, "vendors", "too many vendors (501; at most 500)"),
    ({"vulnerabilities": ["x"] * 101}, "vulnerabilities", "(101; at most 100)"),
    ({"vulnerabilities": [{"title": "x", "affected": ["p"] * 501}]},
     "vulnerabilities[0].affected", "(501; at most 500)"),
    ({"vulnerabilities": [{"title": "x", "cwes": ["CWE-1"] * 21}]},
     "vulnerabilities[0].cwes", "too many CWEs (21; at most 20)"),
    ({"products": [{"product": "p", "versions": ["1"] * 201}]}, "products[0].versions",
     "too many versions (201; at most 200)"),
    ({"reported_to": ["x"] * 101}, "reported_to", "(101; at most 100)"),
    ({"tracking_ids": ["x"] * 101}, "tracking_ids", "(101; at most 100)"),
    ({"vendors": ["v" * 201]}, "vendors[0]", "too long (201 characters; at most 200)"),
    ({"products": [{"product": "p", "versions": ["1" * 101]}]}, "products[0].versions[0]",
     "at most 100)"),
    ({"exploit": "x" * 100_001}, "exploit", "too long (100,001 characters; at most 100,000)"),
])
def test_the_documented_limits(extra: dict[str, object], field: str, says: str) -> None:
    got = problems(json_form(**extra), "json")
    assert len(got) == 1 and got[0][0] == field and says in got[0][1], got
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "Limits per form: 1 MiB per file and 20 levels of nesting" in readme
