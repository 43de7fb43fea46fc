"""`ibm-lms cert …`: programmes, candidates, certifications made on paper, credentials, revocation, verification."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from ibm_lms.audit import service as audit
from ibm_lms.errors import DomainError
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import UnreadableText, read_utf8

from . import credentials, issuing, service

cert_group = AppGroup("cert", help="Trainer certification: programmes, candidates, credentials.")


def _fail(error: DomainError):
    return click.ClickException(str(error))


def _tenant_id(slug: str) -> int:
    try:
        return tenancy.get_tenant(slug).id
    except DomainError as error:
        raise _fail(error) from error


@cert_group.command("programmes")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per programme.")
@click.option("--export", "export_to", type=click.File("w", encoding="utf-8"), default=None,
              help="Write the programmes as TOML (to edit and import again).")
@click.option("--import", "import_from", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Replace the academy's programmes with a TOML file's (audited; standings recomputed).")
def programmes_command(tenant: str, as_json: bool, export_to, import_from: Path | None) -> None:
    """The academy's certification programmes (the regional default until it adopts its own)."""
    tenant_id = _tenant_id(tenant)
    if import_from is not None:
        text = _text_of(import_from, "save the file as UTF-8 text")
        try:
            changes = service.import_programmes(tenant_id, text, actor=audit.command_line_actor())
        except DomainError as error:
            raise click.ClickException(f"{import_from}: {error}") from error
        click.echo("; ".join(f"{what}: {', '.join(keys) or '-'}" for what, keys in changes.items()))
        return
    if export_to is not None:
        export_to.write(service.export_programmes(tenant_id))
        return
    from .rules import programme_to_table

    for record in service.programme_list(tenant_id):
        table = programme_to_table(record.programme)
        if as_json:
            click.echo(json.dumps({**table, "version": record.version, "source": record.source}, ensure_ascii=False))
        else:
            click.echo(f"{record.key}\t{record.programme.level.value}\t{record.programme.area}\t"
                       f"v{record.version} ({record.source})\t{len(record.programme.requirements)} requirements")


def _record_json(record) -> dict:
    return {"id": record.id, "programme": record.programme_key, "area": record.area, "holder": record.holder,
            "holder_name": record.holder_name, "path": record.path, "state": record.state,
            "approved_by": [record.proposed_by, record.confirmed_by],
            "valid_from": record.valid_from.isoformat() if record.valid_from else None,
            "valid_until": record.valid_until.isoformat() if record.valid_until else None,
            "revoked_reason": record.revoked_reason}


@cert_group.command("list")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per certification.")
@click.option("--state", type=click.Choice(["proposed", "issued", "revoked", "withdrawn"]), default=None)
def list_command(tenant: str, as_json: bool, state: str | None) -> None:
    """The academy's certifications, newest first."""
    for record in service.certifications(_tenant_id(tenant), state=state):
        if as_json:
            click.echo(json.dumps(_record_json(record), ensure_ascii=False))
        else:
            click.echo(f"{record.id}\t{record.state}\t{record.programme_key}\t{record.holder_name}\t"
                       f"{record.valid_from or '-'}..{record.valid_until or '-'}")


@cert_group.command("grant")
@click.option("--tenant", required=True)
@click.option("--programme", required=True)
@click.option("--holder", required=True, help="ISSUER:SUB of the certified trainer.")
@click.option("--approved-by", "approved_by", multiple=True, required=True,
              help="ISSUER:SUB of an approver; give exactly two different people.")
@click.option("--valid-from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the paper certification began (default: today).")
@click.option("--locale", default="en", help="The language of the holder's certificate.")
def grant_command(tenant: str, programme: str, holder: str, approved_by: tuple[str, ...], valid_from,
                  locale: str) -> None:
    """Records a certification decided before the tool kept records, and issues its credential."""
    try:
        record = service.grant(tenant, programme, holder, approved_by,
                               valid_from=valid_from.date() if valid_from else None, locale=locale,
                               actor=audit.command_line_actor())
    except DomainError as error:
        raise _fail(error) from error
    click.echo(json.dumps(_record_json(record), ensure_ascii=False))


@cert_group.command("nominate")
@click.option("--tenant", required=True)
@click.option("--programme", required=True)
@click.option("--candidate", required=True, help="ISSUER:SUB")
def nominate_command(tenant: str, programme: str, candidate: str) -> None:
    """Puts someone on a programme's path; prints their stage."""
    tenant_id = _tenant_id(tenant)
    try:
        stage = service.nominate(tenant_id, programme, service.find_person(tenant_id, candidate),
                                 actor=audit.command_line_actor())
    except DomainError as error:
        raise _fail(error) from error
    click.echo(stage.value)


@cert_group.command("approvers")
@click.option("--tenant", required=True)
@click.option("--add", "to_add", default=None, help="ISSUER:SUB to name as an approver.")
@click.option("--remove", "to_remove", default=None, help="ISSUER:SUB to remove (named approvers only).")
@click.option("--json", "as_json", is_flag=True, help="List the approvers as one JSON object per line.")
def approvers_command(tenant: str, to_add: str | None, to_remove: str | None, as_json: bool) -> None:
    """Who may take part in certification decisions (administrators are added by their launches)."""
    try:
        if to_add:
            changed = service.name_approver(tenant, to_add, actor=audit.command_line_actor())
            click.echo("named" if changed else "already an approver")
        if to_remove:
            changed = service.name_approver(tenant, to_remove, actor=audit.command_line_actor(), remove=True)
            click.echo("removed" if changed else "not a named approver")
        for approver in service.approver_list(_tenant_id(tenant)):
            if as_json:
                click.echo(json.dumps({"who": approver["who"], "source": approver["source"], "name": approver["name"]},
                                      ensure_ascii=False))
            else:
                click.echo(f"{approver['who']}\t{approver['source']}\t{approver['name'] or ''}")
    except DomainError as error:
        raise _fail(error) from error


@cert_group.command("export")
@click.argument("credential_id")
@click.option("--pdf", "pdf_to", type=click.File("wb"), default=None, help="Also write the printable certificate.")
def export_command(credential_id: str, pdf_to) -> None:
    """Prints the credential as a compact VC-JWT."""
    try:
        click.echo(service.credential_token(credential_id))
        if pdf_to is not None:
            pdf_to.write(service.certificate_pdf(service.credential_row(credential_id)))
    except DomainError as error:
        raise _fail(error) from error


@cert_group.command("revoke")
@click.argument("credential_id")
@click.option("--reason", required=True,
              help="Kept in the academy's records and audit trail; the public verification page does not show it.")
def revoke_command(credential_id: str, reason: str) -> None:
    """Revokes a credential: its academy's status list says so at once. Final."""
    try:
        record = service.revoke(credential_id, reason, actor=audit.command_line_actor())
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"revoked {record.id}: {record.revoked_reason}")


@cert_group.command("recompute")
@click.option("--tenant", default=None)
def recompute_command(tenant: str | None) -> None:
    """Evaluates every standing again (run nightly: dates open renewal windows and end certifications)."""
    click.echo(f"{service.recompute(_tenant_id(tenant) if tenant else None)} standings changed")


@cert_group.command("rotate-key")
@click.option("--tenant", required=True)
def rotate_key_command(tenant: str) -> None:
    """Makes a new signing key for the academy; earlier keys stay published, so their credentials still verify."""
    try:
        click.echo(f"new key {service.rotate_key(tenant, actor=audit.command_line_actor())}")
    except DomainError as error:
        raise _fail(error) from error


@cert_group.command("regional")
@click.option("--json", "as_json", is_flag=True)
def regional_command(as_json: bool) -> None:
    """Per academy and area: candidates, certified trainers, endings within 90 days (counts only; below 5 hidden)."""
    for row in service.regional_overview():
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{row['academy']}\t{row['area']}\tcandidates {row['candidates']}\t"
                       f"certified {row['certified']}\tending in 90 days {row['expiring_90_days']}")


def _read_json_or_fetch(source: str | None, fallback_url: str | None, what: str):
    import requests

    if source and not source.startswith(("https://", "http://")):
        try:
            return Path(source).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{source}: cannot read the {what} ({error})") from error
    url = source or fallback_url
    if not url:
        raise click.ClickException(f"no {what} given and the credential names none")
    try:
        answer = requests.get(url, timeout=10)
        answer.raise_for_status()
        return answer.text.strip()
    except requests.RequestException as error:
        raise click.ClickException(f"{url}: the {what} could not be fetched ({error})") from error


@cert_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", default=None,
              help="The issuer's published keys: a file (offline) or a URL (default: fetched from the issuer, "
                   "which must then be an academy of this service).")
@click.option("--status-list", "status_source", default=None,
              help="The issuer's revocation list: a file or URL (default: fetched; 'none' skips the check).")
def verify_command(file: Path, jwks_source: str | None, status_source: str | None) -> None:
    """Checks a credential (a compact VC-JWT in FILE) with nothing but the issuer's public keys; exit 0 if valid."""
    token = _text_of(file, "a credential is the text of a signed JWT").strip()
    try:
        import jwt

        claimed = jwt.decode(token, options={"verify_signature": False})
        issuer = claimed.get("iss")
    except Exception:
        claimed, issuer = {}, None
    if jwks_source is None and isinstance(issuer, str) and not issuer.startswith(_our_issuers()):
        # Keys fetched from the address the unverified credential names would let anyone vouch for themselves.
        raise click.ClickException(
            f"the credential names the issuer {issuer}, which is not an academy of this service "
            f"({_our_issuers()}…): pass --jwks with the key set of an issuer you trust (a file, or its URL)")
    try:
        keyset = json.loads(_read_json_or_fetch(jwks_source, f"{issuer}/jwks.json" if issuer else None, "key set"))
    except json.JSONDecodeError as error:
        raise click.ClickException(f"the key set is not JSON ({error.msg}, line {error.lineno})") from error

    def revoked(document: dict) -> bool | None:
        if status_source == "none":
            return None
        status = document.get("credentialStatus") or {}
        try:
            list_token = _read_json_or_fetch(status_source, status.get("statusListCredential"), "revocation list")
            return credentials.status_from_list(list_token, keyset, int(status["statusListIndex"]))
        except Exception:  # an unreadable list leaves revocation unchecked, and the verdict says so
            return None

    verdict = credentials.verify(token, keyset, now=datetime.now(UTC), revoked=revoked)
    # A signed credential may still hold anything where a field is expected: read each part only if it has its shape.
    credential = _mapping(verdict.credential)
    subject = _mapping(credential.get("credentialSubject"))
    identifiers = subject.get("identifier") if isinstance(subject.get("identifier"), list) else []
    click.echo(json.dumps({"status": verdict.status, "valid": verdict.valid, "problems": verdict.problems,
                           "issuer": _mapping(credential.get("issuer")).get("name"),
                           "issuer_url": issuer if isinstance(issuer, str) else None,
                           "key_set": jwks_source or (f"{issuer}/jwks.json" if isinstance(issuer, str) else None),
                           "holder": next((i.get("identityHash") for i in identifiers if isinstance(i, dict)), None),
                           "achievement": _mapping(subject.get("achievement")).get("name"),
                           "valid_from": credential.get("validFrom"),
                           "valid_until": credential.get("validUntil"),
                           "key": verdict.kid}, ensure_ascii=False, indent=2))
    sys.exit(0 if verdict.valid else 1)


def _text_of(path: Path, fix: str) -> str:
    """A file's UTF-8 text; a ClickException naming the file, the line of a bad byte and `fix` otherwise."""
    try:
        return read_utf8(path)
    except UnreadableText as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        raise click.ClickException(f"{where}: {error.reason} — {fix}") from error


def _our_issuers() -> str:
    """The address every academy of this service issues under (issuing.issuer_id of any academy starts with it)."""
    return issuing.issuer_id("")


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


@cert_group.command("candidates")
@click.option("--tenant", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--out", type=click.File("wb"), default="-")
@click.option("--programme", default=None)
@click.option("--stage", default=None)
def candidates_command(tenant: str, fmt: str, out, programme: str | None, stage: str | None) -> None:
    """The academy's candidates with their stage, as CSV or XLSX."""
    out.write(service.export_candidates(_tenant_id(tenant), service.Filters(programme=programme, stage=stage), fmt))
