"""The ``consent`` command: serve, migrate, keys, policy."""

from typing import Annotated

import typer
import uvicorn

from api.cli_keys import keys_app
from api.cli_policy import policy_app
from api.cli_settings import settings_or_exit, store_or_exit
from api.logs import stdlib_log_config
from consent.store.migrate import head_revision

app = typer.Typer(
    help="Consent Gate: consent and privacy gate for CRM contacts.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the service (migrating an empty database first)."""
    settings = settings_or_exit()
    store_or_exit(settings)  # migrated once here, so workers start on a ready schema
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our own request log has the request id and no personal data
        log_level="warning",
        log_config=stdlib_log_config("warning"),  # its lines as JSON, scrubbed, like ours
        server_header=False,  # no "server: uvicorn" telling a scanner what to try
        http="api.http_protocol:ProblemHttpToolsProtocol",  # a request it cannot parse: a problem
    )


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database to this release's schema."""
    store_or_exit(settings_or_exit())
    revision = head_revision()  # where migrating left it
    typer.echo(f"database at schema revision {revision}")


if __name__ == "__main__":
    app()
