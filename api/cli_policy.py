"""``consent policy``: check, list and explain the law the gate enforces, without serving."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.cli_settings import settings_or_exit
from api.settings import Settings
from consent.errors import NotFoundError, StoreUnavailableError
from consent.explain import explain_contact
from consent.store.database import make_engine
from policy.calendars import calendar_versions
from policy.engine import PolicyEngine
from policy.instants import InstantOutOfRangeError, supported
from policy.packs import PolicyLoadError
from policy.vocabulary import Channel, DataCategory, LegalException, Purpose, Source

policy_app = typer.Typer(help="The regulatory packs in policies/.", no_args_is_help=True)

PoliciesDir = Annotated[
    Path | None, typer.Option("--dir", help="Packs folder (default: CONSENT_POLICIES_DIR).")
]


def _load(directory: Path | None) -> PolicyEngine:
    try:
        return PolicyEngine.load(directory or Settings().policies_dir)
    except PolicyLoadError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error


@policy_app.command("check")
def check(directory: PoliciesDir = None) -> None:
    """Validate every pack; exit 1 naming file, line and field of each problem."""
    engine = _load(directory)
    regimes = sorted({rule.regime for rule in engine.rules})
    typer.echo(f"{len(engine.rules)} rules ({', '.join(regimes)}), version {engine.version}")
    calendars = ", ".join(f"{name} {version}" for name, version in calendar_versions().items())
    typer.echo(f"calendars (in the version): {calendars}")


@policy_app.command("list")
def list_rules(directory: PoliciesDir = None) -> None:
    """Every rule with where it applies and its citation."""
    for rule in _load(directory).rules:
        channels = ",".join(rule.channels) or "any"
        until = f" until {rule.effective_until}" if rule.effective_until else ""
        typer.echo(
            f"{rule.id}  [{rule.regime}]  {','.join(rule.jurisdictions)}  {channels}  "
            f"{','.join(rule.purposes)}  from {rule.effective_from}{until}\n"
            f"    {rule.citation}  ({Path(rule.source).name}:{rule.line})"
        )


@policy_app.command("explain")
def explain(
    customer: Annotated[str, typer.Option(help="The CRM's customer id.")],
    purpose: Annotated[Purpose, typer.Option(help="What the contact or data use is for.")],
    channel: Annotated[Channel | None, typer.Option(help="Omit for a data-use check.")] = None,
    source: Annotated[Source, typer.Option(help="Where the contact comes from.")] = Source.CAMPAIGN,
    at: Annotated[
        datetime | None, typer.Option(help="When (UTC unless an offset is given).")
    ] = None,
    automated: Annotated[
        bool,
        typer.Option(
            "--automated/--manual",
            help="Autodialed or prerecorded (the gate's default), or dialled by hand.",
        ),
    ] = True,
    exception: Annotated[
        LegalException | None,
        typer.Option(help="The named exception invoked (12 CFR 1016.13-15), if any."),
    ] = None,
    data_category: Annotated[
        list[DataCategory] | None,
        typer.Option(help="What the disclosure includes; repeat for several."),
    ] = None,
    directory: PoliciesDir = None,
) -> None:
    """Every rule considered for a real customer in the store, whether it applied, and why."""
    settings = settings_or_exit()
    policy = _load(directory)
    when = at or datetime.now(UTC)
    if when.tzinfo is None:  # a time without an offset is read as UTC, as the help says
        when = when.replace(tzinfo=UTC)
    try:
        when = supported(when)
    except InstantOutOfRangeError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from error
    try:
        explained = explain_contact(
            make_engine(settings.database_url), policy, customer,
            channel=channel, purpose=purpose, source=source, at=when, automated=automated,
            exception=exception, data_categories=frozenset(data_category or ()),
        )  # fmt: skip
    except NotFoundError as error:
        typer.echo(f"consent: {error.detail}", err=True)
        raise typer.Exit(1) from error
    except StoreUnavailableError as error:  # read only: it neither creates nor migrates one
        typer.echo(f"consent: {error.detail}", err=True)
        raise typer.Exit(1) from error
    dialled = (
        ""
        if channel not in (Channel.PHONE, Channel.SMS)
        else (" (automated)" if automated else " (manual)")
    )
    invoked = f" under {exception}" if exception is not None else ""
    typer.echo(
        f"{customer}: {channel or 'data use'}{dialled} for {purpose}{invoked} at {when.isoformat()}"
    )
    for place in explained.places:  # before any rule, as the gate lists them
        typer.echo(f"DENY  {place.rule}  {place.message}  ({place.citation})")
    for item in explained.rules:
        verdict = ("DENY" if item.reason else "ok") if item.applies else "n/a"
        typer.echo(f"{verdict:>4}  {item.rule.id}  {item.why}")
        if item.reason:
            typer.echo(f"      {item.reason.message}  ({item.reason.citation})")
    denied = len(explained.places) + sum(1 for item in explained.rules if item.reason)
    typer.echo(f"law: {'deny' if denied else 'allow'} ({denied} rule(s) against)")
