"""The settings and the store a command runs with, or a one-line refusal instead of a
traceback. Neither line repeats what was set: a mistyped master key or a database URL's
password would otherwise end up on the terminal and in the service manager's log."""

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.settings import InsecureSettingsError, Settings
from consent.errors import SchemaAheadError, StoreUnavailableError
from consent.store.database import make_engine
from consent.store.migrate import migrate


def settings_or_exit() -> Settings:
    """Settings, or exit 2 with why: invalid, or a default secret outside development."""
    try:
        settings = Settings()
        settings.refuse_insecure_defaults()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        typer.echo(f"consent: refusing to start: {reasons}", err=True)
        raise typer.Exit(2) from exc
    except InsecureSettingsError as exc:
        typer.echo(f"consent: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


def store_or_exit(settings: Settings) -> Engine:
    """The store the settings name, migrated to this release; or exit 1 saying why."""
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except SchemaAheadError as exc:
        typer.echo(f"consent: refusing to start: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    except (DBAPIError, StoreUnavailableError) as exc:
        typer.echo(f"consent: cannot open the store at {where}: {_first_line(exc)}", err=True)
        raise typer.Exit(1) from exc
    return engine


def _first_line(exc: Exception) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
