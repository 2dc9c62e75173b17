"""``cvdesk advisory``: draft, preview and list the advisory a case ends in, and
``cvdesk publish`` (issue 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, err, out, table

advisory_app = typer.Typer(help="Draft, preview and list the advisory of a case (CSAF, CVE, "
                                "OSV, readable).", no_args_is_help=True)


# The options ``advisory draft`` and ``publish`` share, declared once (a new OptionInfo
# for each command: Typer keeps per-command state in it).
def formats_option() -> Any:
    return typer.Option([], "--format", "-f",
                        help="csaf, csaf-vex, cve, osv, markdown or html; repeat for "
                             "several (default: csaf and markdown).")


def csaf_version_option() -> Any:
    return typer.Option(None, "--csaf-version", metavar="2.0|2.1",
                        help="CSAF version of the csaf and csaf-vex documents (default: "
                             "the publish.csaf_version setting, 2.0 unless set).")


@advisory_app.command("draft")
def draft(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id, e.g. CVD-2026-0001."),
    formats: list[str] = formats_option(),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Write the documents into this directory (created 0700, "
                            "files 0600: a draft holds embargoed details)."),
    at: str | None = typer.Option(None, "--at", help="Draft as of this time (default now)."),
    csaf_version: str | None = csaf_version_option(),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Build the advisory from the case log and write it in each format, each validated
    first.  Without --out, a single document is printed.  Exits 2 when a format's
    writer refused the advisory (the reasons are printed); the other formats are
    still written."""
    svc = app_context(ctx).desk.publication()
    view = svc.draft(case_id, formats, out_dir=out_dir, at=parse_time(at, "--at"),
                     csaf_version=csaf_version)
    if as_json:
        emit_json(view.to_json())
        if view.refused:
            raise typer.Exit(2)
        return
    if out_dir is None and len(view.documents) == 1:
        out.print(view.documents[0].content.decode("utf-8"), markup=False,
                  highlight=False, soft_wrap=True)
    else:
        table(f"{view.case_id} advisory draft (version {view.version})",
              ["format", "file", "bytes", "sha256"],
              [[d.format, d.path or d.filename, str(d.size), d.sha256[:16]]
               for d in view.documents])
        if out_dir is None:
            out.print("nothing written: name a directory with --out to write the files")
    for why in view.skipped:
        out.print(f"skipped: {why}", markup=False)
    for line in view.left_out:
        out.print(line, markup=False)
    for why in view.refused:
        err.print(f"not written: {why}", markup=False)
    if view.refused:
        raise typer.Exit(2)


@advisory_app.command("preview")
def preview(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id, e.g. CVD-2026-0001."),
    until: str = typer.Option(..., "--until", help="Review deadline: corrections by this "
                              "time (ISO 8601 with a time zone)."),
    reason: str = typer.Option("", "--reason", help="A note for the case log."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Send the draft advisory to the vendors and reporters for review through the
    outbox, and log it (6.10: share the draft 1-2 weeks before publication)."""
    svc = app_context(ctx).desk.publication()
    when = parse_time(until, "until")
    assert when is not None
    view = svc.preview(case_id, until=when, reason=reason)
    if as_json:
        emit_json(view.to_json())
        return
    if view.new:
        out.print(f"{view.case_id}: draft {view.version} (sha256 {view.digest[:16]}) queued "
                  f"to {len(view.recipients)} recipient(s), corrections by "
                  f"{view.until.isoformat()}", markup=False)
    else:
        out.print(f"{view.case_id}: this draft was already sent with this deadline; "
                  "nothing queued", markup=False)
    for label in view.skipped:
        err.print(f"not sent (no e-mail address): {label}", markup=False)
    for warning in view.warnings:
        err.print(f"warning: {warning}", markup=False)


@advisory_app.command("list")
def revisions(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id, e.g. CVD-2026-0001."),
    as_json: bool = typer.Option(False, "--json", help="Print the revisions as JSON."),
) -> None:
    """The published versions of the advisory (its revision history) and their files."""
    views = app_context(ctx).desk.publication().revisions(case_id)
    if as_json:
        emit_json([v.to_json() for v in views])
        return
    if not views:
        out.print(f"{case_id.upper()}: the advisory has not been published yet")
        return
    table(f"{case_id.upper()} advisory revisions", ["version", "published", "summary",
                                                    "files"],
          [[str(v.version), v.at.isoformat(),
            v.summary + (f" (early: {v.reason})" if v.early else ""),
            ", ".join(d.filename for d in v.documents)] for v in views])


@advisory_app.command("provider-dir")
def provider_dir(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="The directory to lay out (served as "
                                     ".well-known/csaf at publish.base_url)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Rebuild a CSAF provider directory from every published CSAF document (CSAF 2.0
    7.1): provider-metadata.json, one folder per TLP and year, checksums, index.txt,
    changes.csv, and signatures when the desk has an OpenPGP key."""
    view = app_context(ctx).desk.publication().provider_directory(directory)
    if as_json:
        emit_json(view.to_json())
        return
    _print_provider(view)


def _print_provider(view: Any) -> None:
    folders = ", ".join(f"{tlp}: {n}" for tlp, n in sorted(view.by_tlp.items()))
    out.print(f"provider directory {view.path}: {view.documents} CSAF document(s)"
              + (f" ({folders})" if folders else "") + f", {view.files} file(s), "
              + ("signed" if view.signed else "not signed (no desk key: mail.private_key_file)")
              + f"; served at {view.base_url}", markup=False)


def publish(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id, e.g. CVD-2026-0001."),
    formats: list[str] = formats_option(),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Also write the documents into this directory (0644, or 0600 "
                            "under TLP AMBER or RED)."),
    summary: str = typer.Option("", "--summary", help="What changed in this version "
                                "(the revision history entry)."),
    early: bool = typer.Option(False, "--early", help="Publish before the embargo end "
                               "(needs --reason)."),
    reason: str = typer.Option("", "--reason", help="Why the embargo ends early."),
    provider: Path | None = typer.Option(
        None, "--provider-dir", help="Then lay out (or update) this CSAF provider "
                                     "directory with every published CSAF document "
                                     "(needs publish.base_url)."),
    csaf_version: str | None = csaf_version_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Publish the next version of a case's advisory (6.9).

    Stores it, records P, ends the embargo and notifies every participant, in one
    transaction.  Refused before the embargo end unless --early with
    --reason; a refusal writes nothing."""
    view = app_context(ctx).desk.publication().publish(
        case_id, formats, summary=summary, early=early, reason=reason, out_dir=out_dir,
        provider_dir=provider, csaf_version=csaf_version)
    if as_json:
        emit_json(view.to_json())
        return
    table(f"{view.case_id} advisory version {view.version} published"
          + (" early" if view.early else ""), ["format", "file", "bytes", "sha256"],
          [[d.format, d.path or d.filename, str(d.size), d.sha256[:16]]
           for d in view.documents])
    done = [f"{len(view.notified)} notice(s) queued"]
    if view.recorded_p:
        done.append("P (public awareness) recorded")
    if view.ended_embargo:
        done.append("embargo ended")
    out.print("; ".join(done), markup=False)
    for why in view.skipped:
        out.print(f"skipped: {why}", markup=False)
    for label in view.unreachable:
        err.print(f"no notice (no e-mail address): {label}", markup=False)
    if view.provider_dir is not None:
        _print_provider(view.provider_dir)
