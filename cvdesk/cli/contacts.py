"""Contact discovery (security.txt, CSAF provider metadata) and the contact directory."""

from __future__ import annotations

from pathlib import Path

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, fmt_time, out, table
from cvdesk.cli.transitions import contact_app
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.contacts import ContactService, SecurityTxt, check_securitytxt


def _service(ctx: typer.Context) -> ContactService:
    app_ctx = app_context(ctx)
    app_ctx.cases()  # checks that the database is ready
    return ContactService(app_ctx.db, app_ctx.settings)


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
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InvalidInput("FILE", f"{file}: {exc.strerror or exc}") from None
    keys = []
    for path in key:
        try:
            keys.append(path.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput("--key", f"{path}: {exc}") from None
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
        emit_json({"host": result.host, "organization": result.organization,
                   "security_txt": result.security_txt.to_json(), "csaf": result.csaf,
                   "stored": [{"kind": k, "value": v} for k, v in result.stored]})
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
    rows = _service(ctx).directory(organization)
    if as_json:
        emit_json([{"organization": o.name, "kind": c.kind, "value": c.value,
                    "source": c.source, "verified_at": c.verified_at, "details": c.details}
                   for o, c in rows])
        return
    tz = app_context(ctx).settings.display_timezone
    table(f"{len(rows)} contact(s)", ["organization", "kind", "value", "source", "verified"],
          [[o.name, c.kind, c.value, c.source, fmt_time(c.verified_at, tz)] for o, c in rows])
