"""The readable advisory (appendix D) in Markdown and HTML: every section, and text from
outside never becomes markup."""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings

from cvdesk.domain.safetext import visible
from cvdesk.publish.readable import ON_BEHALF, write_html, write_markdown
from tests.publish.samples import MINIMAL, SAMPLE
from tests.publish.strategies import advisories

markdown_it = pytest.importorskip("markdown_it")  # CommonMark, here through rich

SECTIONS = ["Overview", "Identifiers", "Description", "Impact", "CVSS",
            "Affected and fixed products", "Resolution", "Acknowledgments", "Contact",
            "Timeline", "References", "Revision history"]
HOSTILE_TITLE = "<script>alert(1)</script> *pwned* [click](javascript:alert(1)) # | x"
HOSTILE_STATEMENT = ("We are fine.\n# Injected heading\n<img src=x onerror=alert(1)>\n"
                     "- fake item\n1. fake number\n[ref]: https://evil.example\n"
                     "    code block\n---\n```\nfence")


def _hostile():
    gadget = next(s for s in SAMPLE.statements if s.on_behalf)
    statements = tuple(dataclasses.replace(s, statement=HOSTILE_STATEMENT)
                       if s is gadget else s for s in SAMPLE.statements)
    return dataclasses.replace(SAMPLE, title=HOSTILE_TITLE, statements=statements)


def _md_tokens(text: str):
    parser = markdown_it.MarkdownIt("commonmark").enable("table")
    return parser.parse(text)


def _shown(inline) -> str:
    """The text a reader sees in an inline token (escapes and entities resolved)."""
    return "".join(c.content if c.type in ("text", "code_inline") else
                   "\n" if c.type in ("softbreak", "hardbreak") else ""
                   for c in inline.children or ())


def _md_headings(text: str) -> list[tuple[str, str]]:
    tokens = _md_tokens(text)
    return [(t.tag, _shown(tokens[i + 1])) for i, t in enumerate(tokens)
            if t.type == "heading_open"]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" ")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.current = ""

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))
        self.current = tag

    def handle_data(self, data) -> None:
        self.text.append(data)


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "section", "h1",
                "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                "strong", "a", "blockquote", "br"}


def _html_tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def test_markdown_has_every_section_in_order() -> None:
    for adv in (SAMPLE, MINIMAL):
        rendered = write_markdown(adv)
        assert rendered.filename == f"{adv.tracking_id}.md"
        assert rendered.media_type == "text/markdown; charset=utf-8"
        heads = [content for tag, content in _md_headings(rendered.content.decode())
                 if tag == "h2"]
        assert heads == SECTIONS


def test_markdown_carries_what_appendix_d_asks_for() -> None:
    text = write_markdown(SAMPLE).content.decode()
    for needle in ("CVE-2026-12345", "CVD-2026-0042", "CWE-287", "9.8", "CRITICAL",
                   "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "fixed in 7.4.2",
                   "Upgrade to 7.4.2 or later.", "Dana Whitfield", "cvd@csirt.example",
                   "2026-11-02T12:00:00Z", "first contact attempt",
                   "<https://acme.example/security/ASA-2026-07>", "Added the libquill fix.",
                   "no fix planned", "V2 (no CVE id yet)"):
        assert needle in text, needle
    # the coordinator's entry for Gadget Corp says it is not the vendor's own word
    gadget = text[text.index("### Gadget Corp"):text.index("## Resolution")]
    assert gadget.count(ON_BEHALF) == 2
    acme = text[text.index("### Acme Networks"):text.index("### libquill project")]
    assert ON_BEHALF not in acme


def test_minimal_says_nothing_is_known_yet() -> None:
    text = write_markdown(MINIMAL).content.decode()
    assert "No CVSS score yet." in text and "No remediation is known yet." in text
    assert "TLP:AMBER" in text and "draft" in text


def test_markdown_injection_stays_text() -> None:
    text = write_markdown(_hostile()).content.decode()
    tokens = _md_tokens(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not kinds & {"html_block", "html_inline", "code_block", "fence", "hr",
                        "ordered_list_open", "em_open"}
    heads = _md_headings(text)
    assert heads[0] == ("h1", HOSTILE_TITLE)  # shown exactly as typed
    assert not any("Injected" in content for _, content in heads)
    links = [c.attrs.get("href") for t in tokens for c in t.children or ()
             if c.type == "link_open"]
    assert all(href.startswith("https://") for href in links)
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "# Injected heading" in html.unescape(rendered)  # shown, as text


def test_html_is_a_standalone_page_with_every_section() -> None:
    rendered = write_html(SAMPLE)
    assert (rendered.filename, rendered.media_type) == ("CVD-2026-0042.html",
                                                        "text/html; charset=utf-8")
    page = rendered.content.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert '<meta charset="utf-8">' in page and "default-src 'none'" in page
    parsed = _html_tags(page)
    tags = [t for t, _ in parsed.tags]
    assert set(tags) <= ALLOWED_TAGS
    assert "script" not in tags and "link" not in tags and "img" not in tags
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), tag
        assert "src" not in attrs
    assert tags.count("h2") == len(SECTIONS)
    for section in SECTIONS:
        assert f"<h2>{html.escape(section)}</h2>" in page
    assert "2026-11-25T12:00:00Z" in page and ON_BEHALF in page
    assert 'href="https://acme.example/dl"' in page


def test_html_escapes_hostile_title_and_statement() -> None:
    page = write_html(_hostile()).content.decode()
    parsed = _html_tags(page)
    assert {t for t, _ in parsed.tags} <= ALLOWED_TAGS
    assert "javascript:" not in " ".join(a.get("href", "") for _, a in parsed.tags)
    assert "<script>" not in page and "<img" not in page
    text = "".join(parsed.text)
    assert HOSTILE_TITLE in text
    assert "<img src=x onerror=alert(1)>" in text  # shown as text, not as an element


CONTROLS = "Acme \x1b[2J\x1b]0;pwned\x07 \u202egnp.exe\u2066 \x85\x9b31m\x7f router"


def test_control_and_bidi_characters_are_shown_not_acted_on() -> None:
    """An escape sequence in a published Markdown file acts on the terminal of whoever
    prints it, and a bidi override makes a name read as another: both are written as
    visible escapes, as the command line shows them, in Markdown and in HTML; a URL
    holding one is shown as text, not made a link."""
    statements = tuple(dataclasses.replace(s, statement=CONTROLS) for s in SAMPLE.statements)
    adv = dataclasses.replace(SAMPLE, title=CONTROLS, statements=statements,
                              references=("https://vendor.example/\u202etxt.exe",))
    shown = visible(CONTROLS)
    assert "\\x1b[2J" in shown and "\\u202egnp.exe" in shown
    for text in (write_markdown(adv).content.decode(), write_html(adv).content.decode()):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
                             text)
    heads = _md_headings(write_markdown(adv).content.decode())
    assert heads[0] == ("h1", visible(_one_line(CONTROLS)))  # NEL is a line break there
    page = write_html(adv).content.decode()
    assert f"<h1>{html.escape(shown)}</h1>" in page
    assert 'href="https://vendor.example/' not in page


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(advisories())
def test_generated_advisories_never_inject_markup(adv) -> None:
    text = write_markdown(adv).content.decode()
    tokens = _md_tokens(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not kinds & {"html_block", "html_inline", "code_block", "fence", "hr",
                        "ordered_list_open", "em_open", "image"}
    heads = _md_headings(text)
    assert [c for tag, c in heads if tag == "h2"] == SECTIONS
    assert sum(1 for tag, _ in heads if tag == "h1") == 1
    assert heads[0] == ("h1", _one_line(visible(adv.title)))  # the title, shown as typed
    shown = "\n".join(_shown(t) for t in tokens if t.type == "inline")
    # A later statement for the same vendor, product and vulnerability replaces the
    # earlier one, so each latest statement's lines reach the reader as text.
    latest = {(s.vendor, s.product, s.vulnerability): s for s in adv.statements}
    for s in latest.values():
        for line in s.statement.splitlines():
            assert line.strip() in shown

    page = write_html(adv).content.decode()
    parsed = _html_tags(page)
    assert {t for t, _ in parsed.tags} <= ALLOWED_TAGS
    assert [t for t, _ in parsed.tags].count("h2") == len(SECTIONS)
    assert adv.title.strip() == "" or html.escape(adv.title) in page
