"""The advisory for people to read, in Markdown and as a standalone HTML page.

The sections follow the guide's appendix D (after ISO/IEC 29147 7.4): overview, ids,
description, impact, CVSS vector and score, affected and fixed products with each vendor's
statement, resolution, acknowledgments, contact, timeline, references and revision
history.  Every section is always present, saying so when nothing is known yet, so a
reader can tell "none" from "forgotten".

Both renderings are written from one outline (``outline``), so they cannot disagree.
Everything in it came from outside (reporters, vendors, coordinators typing), so the
renderers escape every piece of text: in Markdown each character that could open markup
is backslash-escaped, in HTML everything goes through ``html.escape``.  Control and bidi
characters are written as visible escapes first (``\\x1b``, ``\\u202e``: domain/safetext.py
``visible``), as the command line shows them: in a published file an escape sequence
could act on the terminal of whoever prints it, and a bidi override could make a
product name or a statement read as something else.  Links are made
only from http(s) URLs; anything else is shown as text.  The HTML page loads nothing from
elsewhere and runs no script, and its content security policy says so.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from cvdesk.domain.advisory import (
    Advisory,
    AdvisoryVulnerability,
    ProductStatus,
    RemediationKind,
    Score,
    VendorStatement,
)
from cvdesk.domain.model import AffectedProduct
from cvdesk.domain.safetext import visible
from cvdesk.publish.common import Rendered
from cvdesk.publish.wire import is_url, utc_stamp

ON_BEHALF = "entered by the coordinator, not yet confirmed by the vendor"

# -- the outline: text stays raw here; only the renderers escape ---------------------------


@dataclass(frozen=True, slots=True)
class Link:
    url: str


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


Run = tuple[str | Link | Strong, ...]  # one line of inline pieces


@dataclass(frozen=True, slots=True)
class Para:
    text: str  # may hold several lines and paragraphs


@dataclass(frozen=True, slots=True)
class Line:
    run: Run


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[Run, ...]


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True, slots=True)
class Quote:
    text: str


@dataclass(frozen=True, slots=True)
class Heading:
    text: str  # a level-3 heading inside a section


Block = Para | Line | Bullets | Table | Quote | Heading


@dataclass(slots=True)
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


def _stamp(at: datetime | None) -> str:
    return utc_stamp(at) if at else "not yet"


def _label(vuln: AdvisoryVulnerability) -> str:
    return vuln.cve or f"{vuln.key} (no CVE id yet)"


def outline(adv: Advisory) -> tuple[list[Run], list[Section]]:
    """The header lines and the sections, in appendix D order."""
    header: list[Run] = [
        ("Advisory ", Strong(adv.tracking_id), f" · version {adv.version} · {adv.status}"
         f" · TLP:{adv.tlp}",),
        (f"Published {_stamp(adv.initial_release)} · "
         f"last updated {_stamp(adv.current_release)} (UTC)",),
    ]
    sections = [
        Section("overview", "Overview", [Para(adv.summary or "No overview yet.")]),
        Section("identifiers", "Identifiers", [Bullets(_identifiers(adv))]),
        Section("description", "Description", _descriptions(adv)),
        Section("impact", "Impact", [Bullets(tuple(
            (f"{_label(v)}: ", _impact(v.scores)) for v in adv.vulnerabilities))]),
        Section("cvss", "CVSS", _cvss(adv)),
        Section("affected", "Affected and fixed products", _affected(adv)),
        Section("resolution", "Resolution", _resolution(adv)),
        Section("acknowledgments", "Acknowledgments", _acknowledgments(adv)),
        Section("contact", "Contact", _contact(adv)),
        Section("timeline", "Timeline", _timeline(adv)),
        Section("references", "References", _references(adv)),
        Section("revisions", "Revision history", _revisions(adv)),
    ]
    return header, sections


def _identifiers(adv: Advisory) -> tuple[Run, ...]:
    items: list[Run] = [("Case: ", adv.case_id)]
    if adv.tracking_id != adv.case_id:
        items.append(("Advisory: ", adv.tracking_id))
    items += [(f"{_label(v)}: ", v.title) for v in adv.vulnerabilities]
    return tuple(items)


def _descriptions(adv: Advisory) -> list[Block]:
    blocks: list[Block] = []
    for v in adv.vulnerabilities:
        blocks.append(Heading(f"{_label(v)}: {v.title}"))
        blocks.append(Para(v.description or "No description yet."))
        if v.cwes:
            blocks.append(Line(("Weakness: ", ", ".join(v.cwes))))
    return blocks


_ACCESS = {"N": "network access", "A": "access to an adjacent network",
           "L": "local access", "P": "physical access"}
_PRIVILEGES = {"N": "no privileges", "L": "low privileges", "H": "high privileges"}


def _impact(scores: tuple[Score, ...]) -> str:
    """A sentence read off the CVSS vector (the first score given), so the impact section
    says in words what the vector says in letters."""
    if not scores:
        return "not assessed yet."
    score = scores[0]
    metrics = dict(p.partition(":")[::2] for p in score.vector.split("/")[1:])
    v4 = score.version.startswith("4")
    effects = []
    for letter, effect in (("C", "read data it should not"), ("I", "change data or behaviour"),
                           ("A", "make the product unavailable")):
        if metrics.get(f"V{letter}" if v4 else letter, "N") != "N":
            effects.append(effect)
    if v4 and any(metrics.get(f"S{x}", "N") != "N" for x in "CIA"):
        effects.append("affect other systems that depend on it")
    access = _ACCESS.get(metrics.get("AV", ""), "some access")
    privileges = _PRIVILEGES.get(metrics.get("PR", ""), "some privileges")
    interaction = ("needing no user interaction" if metrics.get("UI") == "N"
                   else "if a user takes part")
    what = (", ".join(effects[:-1]) + " and " + effects[-1] if len(effects) > 1
            else effects[0] if effects else "do no direct harm to the product's data or "
            "availability")
    return (f"an attacker with {access} and {privileges}, {interaction}, could {what} "
            f"(CVSS {score.version} base score {score.base_score:.1f}, {score.severity}).")


def _cvss(adv: Advisory) -> list[Block]:
    rows = tuple((((_label(v),), (s.version,), (f"{s.base_score:.1f}",), (s.severity,),
                   (s.vector,)))
                 for v in adv.vulnerabilities for s in v.scores)
    if not rows:
        return [Para("No CVSS score yet.")]
    return [Table(("Vulnerability", "CVSS", "Base score", "Severity", "Vector"), rows)]


_STATUS = {ProductStatus.AFFECTED: "affected", ProductStatus.NOT_AFFECTED: "not affected",
           ProductStatus.FIXED: "fixed", ProductStatus.UNDER_INVESTIGATION:
           "under investigation"}


def _affected(adv: Advisory) -> list[Block]:
    """Per vendor, each product and vulnerability with the vendor's word on it.  A word
    the coordinator entered for the vendor says so, every time it is shown."""
    entries: dict[tuple[str, str, str], list] = {}
    for v in adv.vulnerabilities:
        for p in v.products:
            entries.setdefault((p.vendor, p.product, v.key), [v, p, None])
    by_key = {v.key: v for v in adv.vulnerabilities}
    for s in adv.statements:
        # a product recorded without a vendor takes the statement made for its name
        slot = (entries.get((s.vendor, s.product, s.vulnerability))
                or entries.get(("", s.product, s.vulnerability)))
        if slot is None:
            slot = entries.setdefault((s.vendor, s.product, s.vulnerability),
                                      [by_key.get(s.vulnerability), None, None])
        slot[2] = s
    if not entries:
        return [Para("No affected product is known yet.")]
    blocks: list[Block] = []
    by_vendor: dict[str, list[list]] = {}  # one pass: a case may name thousands of vendors
    for k, e in entries.items():
        by_vendor.setdefault(k[0], []).append(e)
    for vendor in dict.fromkeys([*adv.vendors(), ""]):
        mine = by_vendor.get(vendor, [])
        if not mine:
            continue
        blocks.append(Heading(vendor or "Vendor not named"))
        for vuln, product, statement in mine:
            line = _product_line(vuln, product, statement)
            if statement is None and vendor:
                dates = adv.contact_dates(vendor)
                said = ("contacted on " + ", ".join(_stamp(d) for d in dates) if dates
                        else "never contacted")
                line = tuple(f"no statement from the vendor (status unknown); {said}"
                             if part == _NO_STATEMENT else part for part in line)
            blocks.append(Line(line))
            if statement and statement.statement.strip():
                blocks.append(Line((f"Statement from {statement.vendor}"
                                    + (f" ({ON_BEHALF})" if statement.on_behalf else "")
                                    + ":",)))
                blocks.append(Quote(statement.statement))
    return blocks


_NO_STATEMENT = "no statement from the vendor yet"


def _product_line(vuln: AdvisoryVulnerability | None, product: AffectedProduct | None,
                  statement: VendorStatement | None) -> Run:
    name = product.product if product else statement.product if statement else "?"
    label = _label(vuln) if vuln else (statement.vulnerability if statement else "?")
    parts: list[str | Link | Strong] = [Strong(name), f" — {label}: "]
    if statement:
        status = _STATUS[statement.status]
        if statement.status == ProductStatus.FIXED and statement.fixed_version:
            status += f" in {statement.fixed_version}"
        if statement.justification:
            status += f" ({str(statement.justification).replace('_', ' ')})"
        parts.append(Strong(status))
        parts.append(f", stated {_stamp(statement.at)}" if statement.at else "")
        if statement.on_behalf:
            parts.append(f" ({ON_BEHALF})")
    else:
        parts.append(_NO_STATEMENT)
    versions = ""
    if product:
        versions = "; ".join(r.describe() for r in product.versions) or product.version_text
    if versions:
        not_affected = statement and statement.status == ProductStatus.NOT_AFFECTED
        parts.append(f"; {'versions named in the report' if not_affected else 'affected versions'}"
                     f": {versions}")
    if product and product.purl:
        parts.append(f"; package {product.purl}")
    return tuple(p for p in parts if p != "")


_REMEDY = {RemediationKind.VENDOR_FIX: "vendor fix", RemediationKind.WORKAROUND: "workaround",
           RemediationKind.MITIGATION: "mitigation",
           RemediationKind.NONE_AVAILABLE: "no fix available yet",
           RemediationKind.NO_FIX_PLANNED: "no fix planned"}


def _resolution(adv: Advisory) -> list[Block]:
    labels = {v.key: _label(v) for v in adv.vulnerabilities}
    items: list[Run] = []
    for s in adv.statements:
        for r in s.remediations:
            run: list[str | Link | Strong] = [
                f"{s.product} ({s.vendor}), {labels.get(s.vulnerability, s.vulnerability)}"
                " — ", Strong(_REMEDY[r.kind]), f": {r.text}" if r.text else ""]
            if r.url:
                run += [" ", Link(r.url)]
            if s.on_behalf:
                run.append(f" ({ON_BEHALF})")
            items.append(tuple(p for p in run if p != ""))
    return [Bullets(tuple(items))] if items else [Para("No remediation is known yet.")]


def _acknowledgments(adv: Advisory) -> list[Block]:
    items = tuple((a.name + (f" ({a.organization})" if a.organization else "")
                   + (f" — {a.contribution}" if a.contribution else "")
                   + f" [{a.credit_type}]",) for a in adv.acknowledgments)
    return [Bullets(items)] if items else [Para("No one has asked to be credited.")]


def _contact(adv: Advisory) -> list[Block]:
    pub = adv.publisher
    items: list[Run] = [("Publisher: ", pub.name, f" ({pub.category})")]
    if pub.contact_details:
        items.append(("Contact: ", pub.contact_details))
    if pub.namespace:
        items.append(("Web: ", Link(pub.namespace)))
    if pub.issuing_authority:
        items.append(("Issuing authority: ", pub.issuing_authority))
    return [Bullets(tuple(items))]


def _timeline(adv: Advisory) -> list[Block]:
    rows = tuple(((utc_stamp(t.at),), (t.label,))
                 for t in sorted(adv.timeline, key=lambda t: utc_stamp(t.at)))
    return ([Table(("Date (UTC)", "Event"), rows)] if rows
            else [Para("No dated step is recorded yet.")])


def _references(adv: Advisory) -> list[Block]:
    urls = [*adv.references, *(u for v in adv.vulnerabilities for u in v.references)]
    items = tuple((Link(u),) for u in dict.fromkeys(urls) if u.strip())
    return [Bullets(items)] if items else [Para("No references yet.")]


def _revisions(adv: Advisory) -> list[Block]:
    rows = tuple(((r.number,), (utc_stamp(r.at),), (r.summary,)) for r in adv.revisions)
    return ([Table(("Version", "Date (UTC)", "Summary"), rows)] if rows
            else [Para("No revision yet.")])


# -- Markdown -----------------------------------------------------------------------------

_MD_ALWAYS = frozenset("\\`*_{}[]<>|~&#!")
#: what opens a block at the start of a line: a list marker, a setext underline or
#: thematic break, an ordered-list number
_MD_LINE_START = re.compile(r"^(?:[-+](?=\s|$)|[-=\s]+$|\d{1,9}(?=[.)](?:\s|$)))")


def _md_line(line: str) -> str:
    line = "".join("\\" + c if c in _MD_ALWAYS else c for c in visible(line))
    match = _MD_LINE_START.match(line)
    if match is None:
        return line
    if line[0].isdigit():
        return line[:match.end()] + "\\" + line[match.end():]
    return "\\" + line


def md_escape(text: str) -> str:
    """Block text that renders as itself: no emphasis, links, HTML, headings, lists, quotes
    or code.  Lines keep their breaks; their indentation goes (it would make code)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_md_line(line.lstrip()) for line in lines)


def _md_inline(text: str) -> str:
    """One piece of a line: whitespace runs (newlines too) become one space; a piece may
    start a line, so it is escaped as if it did."""
    text = re.sub(r"\s+", " ", text)
    lead = " " if text.startswith(" ") else ""
    return lead + _md_line(text[len(lead):])


def _md_run(run: Run) -> str:
    out = []
    for piece in run:
        if isinstance(piece, Link):
            out.append(f"<{piece.url}>" if is_url(piece.url) else _md_inline(piece.url))
        elif isinstance(piece, Strong):
            out.append(f"**{_md_inline(piece.text.strip())}**" if piece.text.strip() else "")
        else:
            out.append(_md_inline(piece))
    return "".join(out)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"### {_md_inline(block.text)}"
    if isinstance(block, Para):
        return md_escape(block.text.strip())
    if isinstance(block, Line):
        return _md_run(block.run)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_run(item)}" for item in block.items)
    if isinstance(block, Quote):
        return "\n".join(f"> {line}" if line else ">"
                         for line in md_escape(block.text.strip()).split("\n"))
    head = "| " + " | ".join(_md_inline(h) for h in block.headers) + " |"
    rule = "|" + "---|" * len(block.headers)
    rows = ["| " + " | ".join(_md_run(cell) for cell in row) + " |" for row in block.rows]
    return "\n".join([head, rule, *rows])


def to_markdown(adv: Advisory) -> str:
    header, sections = outline(adv)
    parts = [f"# {_md_inline(adv.title)}", "  \n".join(_md_run(r) for r in header)]
    for section in sections:
        parts.append(f"## {section.title}")
        parts += [_md_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


def write_markdown(adv: Advisory) -> Rendered:
    return Rendered("markdown", f"{adv.tracking_id}.md", to_markdown(adv).encode("utf-8"),
                    "text/markdown; charset=utf-8")


# -- HTML ---------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}
blockquote{border-left:4px solid #ccc;margin:0 0 1rem;padding:0 1rem;color:#333}
code,.vector{font-family:ui-monospace,monospace;word-break:break-all}.meta{color:#555}
""".strip()
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def _h(text: str) -> str:
    return html.escape(visible(text), quote=True)


def _h_text(text: str) -> str:
    """Multi-line text: blank lines part paragraphs, single newlines are line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join("<p>" + "<br>\n".join(_h(line) for line in p.split("\n")) + "</p>"
                     for p in paras)


def _h_run(run: Run) -> str:
    out = []
    for piece in run:
        if isinstance(piece, Link):
            out.append(f'<a href="{_h(piece.url)}" rel="nofollow noreferrer">{_h(piece.url)}</a>'
                       if is_url(piece.url) else _h(piece.url))
        elif isinstance(piece, Strong):
            out.append(f"<strong>{_h(piece.text)}</strong>")
        else:
            out.append(_h(piece))
    return "".join(out)


def _h_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_h(block.text)}</h3>"
    if isinstance(block, Para):
        return _h_text(block.text)
    if isinstance(block, Line):
        return f"<p>{_h_run(block.run)}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{_h_run(i)}</li>" for i in block.items) + "\n</ul>"
    if isinstance(block, Quote):
        return f"<blockquote>{_h_text(block.text)}</blockquote>"
    head = "".join(f'<th scope="col">{_h(h)}</th>' for h in block.headers)
    rows = "\n".join("<tr>" + "".join(f"<td>{_h_run(c)}</td>" for c in row) + "</tr>"
                     for row in block.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"


def to_html(adv: Advisory) -> str:
    header, sections = outline(adv)
    lang = adv.language if _LANG.fullmatch(adv.language) else "en"
    body = [f"<h1>{_h(adv.title)}</h1>"]
    body += [f'<p class="meta">{_h_run(r)}</p>' for r in header]
    for section in sections:
        inner = "\n".join(_h_block(b) for b in section.blocks)
        body.append(f'<section id="{section.id}">\n<h2>{_h(section.title)}</h2>\n{inner}\n'
                    "</section>")
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="cvdesk">\n'
            f"<title>{_h(adv.tracking_id)}: {_h(adv.title)}</title>\n"
            f"<style>\n{_STYLE}\n</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def write_html(adv: Advisory) -> Rendered:
    return Rendered("html", f"{adv.tracking_id}.html", to_html(adv).encode("utf-8"),
                    "text/html; charset=utf-8")
