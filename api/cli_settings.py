"""The settings a command runs with, or a one-line refusal instead of a traceback."""

import typer
from pydantic import ValidationError

from api.settings import InsecureSettingsError, Settings


def settings_or_exit() -> Settings:
    """Settings, or exit 2 with why: invalid, or a default secret outside development."""
    try:
        settings = Settings()
        settings.refuse_insecure_defaults()
    except (ValidationError, InsecureSettingsError) as exc:
        typer.echo(f"consent: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings
