"""The ``consent`` command: serve, migrate, keys, policy."""

from datetime import UTC, datetime
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from api.cli_policy import policy_app
from api.logs import stdlib_log_config
from api.settings import InsecureSettingsError, Settings
from consent.keys import Role, create_key
from consent.store.database import make_engine, transaction
from consent.store.migrate import migrate

app = typer.Typer(
    help="Consent Gate: consent and privacy gate for CRM contacts.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")


def _settings() -> Settings:
    """Settings, or a one-line refusal (exit 2) instead of a traceback."""
    try:
        settings = Settings()
        settings.refuse_insecure_defaults()
    except (ValidationError, InsecureSettingsError) as exc:
        typer.echo(f"consent: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the service (migrating an empty database first)."""
    settings = _settings()
    migrate(make_engine(settings.database_url))  # once here, so workers start on a ready schema
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our own request log has the request id and no personal data
        log_level="warning",
        log_config=stdlib_log_config("warning"),  # its lines as JSON, scrubbed, like ours
    )


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database to this release's schema."""
    revision = migrate(make_engine(_settings().database_url))
    typer.echo(f"database at schema revision {revision}")


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
    engine = make_engine(_settings().database_url)
    migrate(engine)
    with transaction(engine) as conn:
        key = create_key(conn, name or str(role), role, datetime.now(UTC), customer)
    typer.echo(f"created a {role} key named {name or role}; store it now, it is not shown again:")
    typer.echo(key)


if __name__ == "__main__":
    app()
