"""``consent keys``: create, list and revoke the API keys, as an operator does."""

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from api.cli_settings import settings_or_exit, store_or_exit
from audit.entry import Actor
from consent.errors import NotFoundError
from consent.keys import KeyRecord, Role, create_key, key_id_of, list_keys, revoke_key
from consent.store.database import read_transaction, transaction

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


def _operator() -> Actor:
    """The audit log's actor for a key created or revoked here: who ran the command."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        user = "unknown"
    return Actor(name=f"cli:{user}", role="admin")


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    name: Annotated[
        str, typer.Option(help="Who holds it; shown as the actor in the audit log.")
    ] = "",
    customer: Annotated[
        str | None, typer.Option(help="For a customer key: their customer id.")
    ] = None,
) -> None:
    """Create an API key and print it as the last line (only its hash is stored)."""
    if role is Role.CUSTOMER and not customer:
        raise typer.BadParameter("a customer key needs --customer", param_hint="--customer")
    if role is not Role.CUSTOMER and customer:
        # Stored, shown in `keys list`, and ignored: the key would reach every customer.
        raise typer.BadParameter(
            f"only a customer key is bound to a customer, not a {role} key", param_hint="--customer"
        )
    with transaction(store_or_exit(settings_or_exit())) as conn:
        key = create_key(conn, name or str(role), role, datetime.now(UTC), customer, _operator())
    typer.echo(f"created a {role} key named {name or role}; store it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key's id, role, name and dates; never a secret."""
    with read_transaction(store_or_exit(settings_or_exit())) as conn:
        keys = list_keys(conn)
    typer.echo(f"{'KEY ID':<16}  {'ROLE':<18}  {'CREATED':<20}  {'REVOKED':<20}  NAME")
    for key in keys:
        typer.echo(_line(key))


def _line(key: KeyRecord) -> str:
    revoked = _when(key.revoked_at) if key.revoked_at else "-"
    holder = f"{key.name} (customer {key.customer_id})" if key.customer_id else key.name
    return f"{key.key_id:<16}  {key.role:<18}  {_when(key.created_at):<20}  {revoked:<20}  {holder}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id, or the whole key.")],
) -> None:
    """Revoke a key for good; a running service refuses it within CONSENT_AUTH_CACHE_SECONDS."""
    settings = settings_or_exit()
    engine = store_or_exit(settings)
    try:
        with transaction(engine) as conn:
            record, revoked = revoke_key(conn, key_id_of(key), datetime.now(UTC), _operator())
    except NotFoundError as error:
        typer.echo(f"consent: {error.detail}", err=True)
        raise typer.Exit(1) from error
    if not revoked:
        typer.echo(f"key {record.key_id} ({record.name}) was already revoked")
        return
    typer.echo(
        f"revoked key {record.key_id} ({record.name}, {record.role}); a running service "
        f"refuses it within {settings.auth_cache_seconds:g} s"
    )
