"""Contact discovery (security.txt, CSAF provider metadata) and the contact directory."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, fmt_time, neutralise, out, table
from cvdesk.cli.progress import progress_bar
from cvdesk.cli.transitions import choice, contact_app
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource
from cvdesk.services.contacts import (
    ContactService,
    SecurityTxt,
    check_securitytxt,
    fallbacks,
    normalize_host,
)


def _service(ctx: typer.Context) -> ContactService:
    return app_context(ctx).desk.contacts()


def _print_report(found: SecurityTxt) -> None:
    out.print(f"security.txt {'is valid' if found.valid else 'is NOT valid'}"
              + (f" ({found.url})" if found.url else ""))
    for name, values in found.fields.items():
        for value in values:
            out.print(f"  {name}: {value}")
    out.print(f"  signature: {found.signature.detail}")
    for p in found.problems:
        line = f" (line {p.line})" if p.line else ""
        out.print(f"  {p.severity}: {p.code}{line}: {p.message}")


@contact_app.command("check-securitytxt")
def check_securitytxt_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A security.txt file."),
    url: list[str] = typer.Option([], "--url", help="Where it is published (Canonical check)."),
    key: list[Path] = typer.Option([], "--key", help="Public key (ASCII armour) to check "
                                   "the signature with."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate a local security.txt (RFC 9116). Exits 1 when it is not valid."""
    from cvdesk.cli.files import read_at_most, read_text
    from cvdesk.services.contacts import KEY_MAX_CHARS, SECURITY_TXT_MAX_BYTES

    # One byte over the checker's limit is enough for it to say the file is too large.
    content = read_at_most(file, SECURITY_TXT_MAX_BYTES, "FILE")
    keys = [read_text(path, KEY_MAX_CHARS, "--key") for path in key]
    found = check_securitytxt(content, urls=url or None, keys=keys)
    if as_json:
        emit_json(found.to_json())
    else:
        _print_report(found)
    if not found.valid:
        raise typer.Exit(1)


@contact_app.command("discover")
def discover(
    ctx: typer.Context,
    domain: str = typer.Argument(..., help="The vendor's domain, e.g. example.org."),
    organization: str | None = typer.Option(None, "--org", help="Organization name "
                                            "(default: the domain)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fetch and check the domain's security.txt and CSAF provider metadata; store the
    contacts found in the directory (verified only when the file is valid).

    Exits 0 when a valid security.txt was found, 1 when none was or it is not valid."""
    result = _service(ctx).discover(domain, organization)
    if as_json:
        emit_json(result.to_json())
    else:
        _print_report(result.security_txt)
        if result.csaf:
            out.print(f"CSAF provider: {result.csaf.get('name', result.csaf.get('error'))} "
                      f"({result.csaf['url']})")
        out.print(f"stored {len(result.stored)} contact(s) for {result.organization}")
    if not result.security_txt.valid:
        raise typer.Exit(1)


@contact_app.command("list")
def contact_list(ctx: typer.Context,
                 organization: str | None = typer.Option(None, "--org"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """The contact directory: organizations and their contacts, with source and check time."""
    entries = _service(ctx).directory(organization)
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    tz = app_context(ctx).settings.display_timezone
    table(f"{len(entries)} contact(s)", ["organization", "kind", "value", "source", "verified"],
          [[e.organization, e.kind, e.value, e.source, fmt_time(e.verified_at, tz)]
           for e in entries])


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    organization: str = typer.Argument(..., help="Organization name."),
    kind: str = typer.Option(..., "--kind", help="email, phone, web-form, pgp-key, url, "
                             "policy, csaf-provider, platform"),
    value: str = typer.Option(..., "--value"),
    verified: bool = typer.Option(False, "--verified", help="You checked that it works."),
) -> None:
    """Add a contact to the directory by hand."""
    new = _service(ctx).add(organization, choice(ContactKind, kind, "--kind"), value,
                            verified=verified)
    out.print(f"{'added' if new else 'updated'} {kind} {value} for {organization}")


@contact_app.command("import")
def contact_import(ctx: typer.Context,
                   file: Path = typer.Argument(..., help=".csv or .json")) -> None:
    """Import contacts (columns: organization, kind, value, source, verified_at, details)."""
    with progress_bar("importing contacts") as progress:
        done = _service(ctx).import_file(file, progress=progress)
    out.print(f"imported {done.rows} row(s) from {file}: {done.added} new contact(s)")


@contact_app.command("export")
def contact_export(
    ctx: typer.Context,
    fmt: str = typer.Option("json", "--format", help="json or csv"),
    out_file: Path | None = typer.Option(None, "--out", help="Default: standard output."),
) -> None:
    """Export the whole directory (the same columns import reads)."""
    svc = _service(ctx)
    try:
        if out_file is not None:
            count = svc.export_file(out_file, fmt)
            out.print(f"wrote {count} contact(s) to {out_file}")
            return
        text, _ = svc.export_text(fmt)
    except InvalidInput as exc:
        if exc.field == "format":
            raise InvalidInput("--format", exc.problem) from None
        raise
    # CSV has no escapes: on a terminal its control characters are shown escaped;
    # into a pipe or file it goes as stored, to be imported again.
    print(neutralise(text) if sys.stdout.isatty() else text, end="")


@contact_app.command("fallbacks")
def contact_fallbacks(
    ctx: typer.Context,
    domain: str = typer.Argument(...),
    save: str | None = typer.Option(None, "--save", help="Store the e-mail guesses as "
                                    "unverified contacts of this organization."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Channels to try when no security.txt names a contact (all unverified)."""
    items = fallbacks(normalize_host(domain))
    if save:
        svc = _service(ctx)
        for item in items:
            if item["kind"] in ("email", "url"):
                svc.add(save, ContactKind(item["kind"]), item["value"],
                        source=ContactSource.FALLBACK)
    if as_json:
        emit_json(items)
        return
    table(f"channels to try for {domain} (unverified: log each attempt)", ["kind", "where",
                                                                            "why"],
          [[i["kind"], i["value"], i["why"]] for i in items])
