"""Benchmark ``POST /v1/checks`` over real HTTP, against a bare FastAPI app in the same run.

Run by hand, never by pytest (a full run takes about four minutes)::

    .venv/bin/python -m bench.gate [--seconds S] [--connections C] [--customers N]

Its targets, one after the other, each on a free port of 127.0.0.1: the bare app of
``bench/bare_app.py`` (1 worker), ``consent serve`` on a temporary SQLite file (1 and 2 workers)
and ``consent serve`` on PostgreSQL in a fresh schema of database ``test`` (2 workers).
The load comes from ``wrk`` (a Lua script builds every request), or from an asyncio + httpx
generator when ``wrk`` is not installed. Each target is timed twice: with every connection
busy, then paced at ``--paced-rate`` requests a second (see ``measure``). The bare app
stays up throughout and is timed again just before and after each service target's busy
run, which sets that target's ratio. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO

import httpx
import psycopg
from psycopg import sql

from bench import seeding

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql://root@127.0.0.1:5432/test"
CHECK_PATH = "/v1/checks"
SQLITE_TARGET = 0.5  # x bare
POSTGRES_TARGET = 0.2  # x bare: PostgreSQL shares the 2 cores here (see PERFORMANCE.md)
P99_TARGET_MS = 20.0
PACED_RATE = 500  # req/s: below every target's saturated rate here, on a slow day too
# PERFORMANCE.md reports p50/p99 at 8 connections as well as at 64: as fast as the target
# answers, but with few requests queued ahead of each.
FEW_CONNECTIONS = 8
WARMUP_SECONDS = 2
WRK_THREADS = 2
START_TIMEOUT = 60.0
# More than the gate's memo of decoded customer states holds (16,384), so that most checks
# decode their customer's state afresh, as over a real customer base; PERFORMANCE.md's
# method has 100,000 (--customers 100000: about five minutes of seeding a store).
DEFAULT_CUSTOMERS = 20_000


# --- what is measured -------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A started server: where it answers, and its process group (its workers included)."""

    base_url: str
    group: int


@dataclass(frozen=True)
class Target:
    """A running server to load, and what to send it."""

    name: str
    server: Running
    api_key: str | None
    customer_ids: list[str]

    @property
    def base_url(self) -> str:
        return self.server.base_url


@dataclass(frozen=True)
class Measurement:
    """One timed run against one target."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-200 answers plus socket errors and timeouts
    allows: int
    # CPU seconds the server's own processes used meanwhile (not PostgreSQL's, not wrk's);
    # None where /proc cannot tell. It depends less than the rate on how the kernel places
    # the server beside wrk on the 2 cores.
    server_cpu: float | None = None

    @property
    def cpu_per_request_us(self) -> float | None:
        if self.server_cpu is None or not self.requests:
            return None
        return self.server_cpu / self.requests * 1e6

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def allow_share(self) -> float:
        return self.allows / self.requests if self.requests else 0.0


def customer_ids(count: int) -> list[str]:
    return [f"bench-{i:05d}" for i in range(count)]


def noon_in_dallas_ahead(now: datetime) -> str:
    """18:00 UTC on the next Tuesday, Wednesday or Thursday: noon in Dallas (13:00 in summer).

    Inside the TCPA's calling hours and clear of the states' weekend rules, so that every
    check is allowed and the figures do not depend on the clock. Ahead of now, because a
    send_at already past is decided as now (``consent/gate.py``).
    """
    day = now.date() + timedelta(days=1)
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return f"{day.isoformat()}T18:00:00Z"


# The seeded numbers ring in Dallas.
SEND_AT = noon_in_dallas_ahead(datetime.now(UTC))


def check_body(customer_id: str) -> dict[str, str]:
    return {
        "customer_id": customer_id,
        "channel": "phone",
        "purpose": "marketing",
        "source": "telemarketing",
        "send_at": SEND_AT,
    }


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer on {base_url} within {START_TIMEOUT:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (uvicorn stops its workers), then SIGKILL its own process group."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group started for this server only
        process.wait(timeout=5)


def group_cpu_seconds(group: int) -> float | None:
    """User and system CPU of every live process in ``group``, from /proc (Linux only)."""
    ticks = 0
    stats = list(Path("/proc").glob("[0-9]*/stat"))
    if not stats:  # no /proc here
        return None
    for stat in stats:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def with_server_cpu(group: int, run: Callable[[], Measurement]) -> Measurement:
    """``run()``'s measurement, with the CPU that ``group`` used meanwhile."""
    before = group_cpu_seconds(group)
    measured = run()
    after = group_cpu_seconds(group)
    if before is None or after is None:
        return measured
    return replace(measured, server_cpu=after - before)


@contextmanager
def server(command_for: Callable[[int], list[str]], env: dict[str, str]) -> Iterator[Running]:
    """Start ``command_for(port)`` on a free port, yield where it runs, always stop it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            command_for(port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(process, base_url, log)
            yield Running(base_url, process.pid)  # start_new_session: its pid is its group
        finally:
            _stop(process)


def bare_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "bench.bare_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def consent_command(workers: int) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "api.cli", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip

    return command


def new_master_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def consent_env(database_url: str, master_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "CONSENT_DATABASE_URL": database_url,
        "CONSENT_MASTER_KEY": master_key,
        "CONSENT_ENVIRONMENT": "test",
        "CONSENT_LOG_LEVEL": "info",  # as deployed: one JSON log line a request
    }


def create_key(env: dict[str, str], role: str = "crm_service", name: str = "bench") -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter; role and name are ours
        [sys.executable, "-m", "api.cli", "keys", "create", "--role", role,
         "--name", name],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"consent keys create failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema in database ``test``, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    name = sql.Identifier(schema)
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
    try:
        yield schema
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))


# --- seeding ------------------------------------------------------------------------------


def _expect_ok(response: httpx.Response) -> None:
    if response.status_code not in (200, 201):
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )


REGISTRY_NUMBERS = 10_000  # +1214556XXXX: a registry copy of some size, none a customer's


def load_registry(base_url: str, admin_key: str) -> None:
    """A national do-not-call copy dated today, as an operator loads it before calling.

    Every US marketing call is checked against it (47 CFR 64.1200(c)(2)), so the bench
    pays for the look-up as production does; without a copy the checks would deny.
    """
    exchange = seeding.REGISTRY_EXCHANGE
    body = "".join(f"214,{exchange}{i:04d}\n" for i in range(REGISTRY_NUMBERS))  # its form
    response = httpx.put(
        f"{base_url}/v1/suppression-lists/national_dnc",
        params={"source_date": time.strftime("%Y-%m-%d", time.gmtime())},
        content=body.encode(),
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "text/csv"},
        timeout=120,
    )
    _expect_ok(response)


# --- load: wrk ----------------------------------------------------------------------------

WRK_SCRIPT = """
local ids = {%(ids)s}
local token = "%(token)s"
local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  prefix = token .. "-" .. tid .. "-"
  sent, allows, non200 = 0, 0, 0
end

function request()
  sent = sent + 1
  local body = '{"customer_id":"' .. ids[math.random(#ids)] .. '","channel":"phone",'
    .. '"purpose":"marketing","source":"telemarketing","send_at":"%(send_at)s"}'
  local headers = {["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. sent}
  %(auth)s
  return wrk.format("POST", "%(path)s", headers, body)
end

%(pacing)s
function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif string.find(body, '"decision":%%s*"allow"') then
    allows = allows + 1
  end
end

function done(summary, latency, requests)
  local allowed, refused = 0, 0
  for _, thread in ipairs(threads) do
    allowed = allowed + thread:get("allows")
    refused = refused + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d p50_us=%%.1f p99_us=%%.1f non200=%%d allows=%%d "
    .. "socket_errors=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    refused, allowed, e.connect + e.read + e.write + e.timeout))
end
"""

BENCH_LINE = re.compile(r"^BENCH (.+)$", re.MULTILINE)


# A connection waits an exponential time (mean ``mean_ms``) after each answer before it
# sends again: arrivals close to a Poisson process, as from many independent callers.
WRK_PACING = """
local mean_ms = %(mean_ms).3f
function delay()
  return -math.log(1 - math.random()) * mean_ms
end
"""


def wrk_script(target: Target, pause: float | None = None) -> str:
    """The Lua script; with ``pause`` (seconds), each connection waits about that long
    between an answer and its next request."""
    auth = f'headers["Authorization"] = "Bearer {target.api_key}"' if target.api_key else ""
    pacing = WRK_PACING % {"mean_ms": pause * 1000} if pause else ""
    return WRK_SCRIPT % {
        "pacing": pacing,
        "ids": ",".join(f'"{cid}"' for cid in target.customer_ids),
        "token": uuid.uuid4().hex[:12],  # a new one per run: keys never repeat across runs
        "auth": auth,
        "path": CHECK_PATH,
        "send_at": SEND_AT,
    }


def _parse_wrk(output: str) -> Measurement:
    found = BENCH_LINE.search(output)
    if not found:
        raise RuntimeError(f"wrk printed no BENCH line:\n{output}")
    values = dict(pair.split("=", 1) for pair in found.group(1).split())
    return Measurement(
        requests=int(values["requests"]),
        seconds=int(values["duration_us"]) / 1e6,
        p50_ms=float(values["p50_us"]) / 1000,
        p99_ms=float(values["p99_us"]) / 1000,
        errors=int(values["non200"]) + int(values["socket_errors"]),
        allows=int(values["allows"]),
    )


def wrk_load(
    wrk: str, target: Target, connections: int, seconds: int, pause: float | None = None
) -> Measurement:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(target, pause))
    try:
        done = subprocess.run(  # noqa: S603 - the wrk found on PATH, fixed arguments
            [wrk, f"-t{min(WRK_THREADS, connections)}", f"-c{connections}", f"-d{seconds}s",
             "--latency", "-s", script.name, target.base_url],
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
    finally:
        Path(script.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return _parse_wrk(done.stdout)


# --- load: asyncio + httpx fallback -------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    allows: int = 0


async def _client_loop(
    client: httpx.AsyncClient,
    target: Target,
    prefix: str,
    deadline: float,
    tally: Tally,
    pause: float | None,
) -> None:
    sent = 0
    while time.perf_counter() < deadline:
        if sent and pause:
            await asyncio.sleep(random.expovariate(1 / pause))  # as wrk's delay(), above
        sent += 1
        body = check_body(random.choice(target.customer_ids))
        started = time.perf_counter()
        try:
            answer = await client.post(
                CHECK_PATH, json=body, headers={"Idempotency-Key": f"{prefix}-{sent}"}
            )
        except httpx.HTTPError:
            tally.errors += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        if answer.status_code != 200:
            tally.errors += 1
        elif answer.json().get("decision") == "allow":
            tally.allows += 1


async def _httpx_run(
    target: Target, connections: int, seconds: int, pause: float | None
) -> Measurement:
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    token = uuid.uuid4().hex[:12]
    tally = Tally()
    async with httpx.AsyncClient(
        base_url=target.base_url, headers=headers, limits=limits, timeout=10.0
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client_loop(client, target, f"{token}-{n}", deadline, tally, pause)
                for n in range(connections)
            )
        )
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(tally.latencies, n=100) if len(tally.latencies) > 1 else [0.0] * 99
    return Measurement(
        requests=len(tally.latencies),
        seconds=elapsed,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        errors=tally.errors,
        allows=tally.allows,
    )


def httpx_load(
    target: Target, connections: int, seconds: int, pause: float | None = None
) -> Measurement:
    return asyncio.run(_httpx_run(target, connections, seconds, pause))


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    seconds: int
    connections: int
    customers: int
    wrk: str | None
    skip: tuple[str, ...] = ()
    sqlite_workers: tuple[int, ...] = (1, 2)
    postgres_workers: int = 2
    paced_rate: int = PACED_RATE  # requests a second offered in the paced run; 0: none
    few_connections: int = FEW_CONNECTIONS  # connections of the third run; 0: none


@dataclass(frozen=True)
class Runs:
    """A target's timed runs: as fast as it answers, at the paced rate, and as fast as it
    answers over few connections."""

    saturated: Measurement
    paced: Measurement | None  # None with --paced-rate 0
    # The bare app timed just before and just after ``saturated`` (service targets only):
    # this machine's speed drifts by a third within a minute, so a ratio against a bare
    # figure taken minutes earlier measures the drift as much as the service.
    beside: tuple[Measurement, Measurement] | None = None
    few: Measurement | None = None  # None with --few-connections 0

    def bares(self, first: Measurement | None) -> tuple[Measurement, ...]:
        """The bare runs to set ``saturated`` against: beside it, else the run's first."""
        return self.beside or ((first,) if first is not None else ())

    def x_bare(self, first: Measurement | None) -> float | None:
        """``saturated``'s rate over the mean bare rate, None without a bare rate."""
        bares = self.bares(first)
        bare_rate = statistics.fmean(bare.rate for bare in bares) if bares else 0.0
        return self.saturated.rate / bare_rate if bare_rate else None

    def bare_cpu_us(self, first: Measurement | None) -> float | None:
        """The bare runs' mean server CPU a request, None if any of them lacks one."""
        costs = [bare.cpu_per_request_us for bare in self.bares(first)]
        if not costs or any(cost is None for cost in costs):
            return None
        return statistics.fmean(cost for cost in costs if cost is not None)


# Times the bare app for the given seconds (the baseline taken beside each service target).
Baseline = Callable[[int], Measurement]


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed_load(
    target: Target,
    options: Options,
    seconds: int,
    pause: float | None = None,
    connections: int | None = None,
) -> Measurement:
    connections = connections or options.connections
    if options.wrk:
        run = partial(wrk_load, options.wrk, target, connections, seconds, pause)
    else:
        run = partial(httpx_load, target, connections, seconds, pause)
    return with_server_cpu(target.server.group, run)


def baseline_seconds(options: Options) -> int:
    return max(1, options.seconds // 2)


def measure(target: Target, options: Options, baseline: Baseline | None = None) -> Runs:
    """Warm the target up, time it as fast as it answers, then at the paced rate.

    The first run keeps every connection busy, so a request waits for the ones queued
    ahead of it (its latency is about connections / rate). With ``baseline``, the bare
    app is timed just before and just after it, at the same load. The paced one offers
    ``paced_rate`` over the same connections, each waiting between an answer and its next
    request: the latency a caller sees when the service is not saturated.
    """
    load = partial(timed_load, target, options)
    progress(f"{target.name}: warm-up {WARMUP_SECONDS}s")
    load(WARMUP_SECONDS)
    if baseline is not None:
        progress(f"{target.name}: bare app beside it, {baseline_seconds(options)}s before")
        before = baseline(baseline_seconds(options))
    progress(f"{target.name}: timed run {options.seconds}s at {options.connections} connections")
    saturated = load(options.seconds)
    beside = None
    if baseline is not None:
        progress(f"{target.name}: bare app beside it, {baseline_seconds(options)}s after")
        beside = (before, baseline(baseline_seconds(options)))
    paced = None
    if options.paced_rate:
        progress(f"{target.name}: paced run {options.seconds}s, {options.paced_rate} req/s")
        paced = load(options.seconds, options.connections / options.paced_rate)
    few = None
    if options.few_connections:
        progress(f"{target.name}: timed run {options.seconds}s at {options.few_connections} "
                 "connections")  # fmt: skip
        few = load(options.seconds, connections=options.few_connections)
    return Runs(saturated, paced, beside, few)


def run_consent(
    name: str, store: SeededStore, workers: int, options: Options, baseline: Baseline
) -> Runs:
    env = consent_env(store.database_url, store.master_key)
    progress(f"{name}: creating API keys")
    api_key = create_key(env)
    admin_key = create_key(env, "admin", "bench-admin")
    with server(consent_command(workers), env) as running:
        load_registry(running.base_url, admin_key)
        target = Target(name, running, api_key, customer_ids(options.customers))
        return measure(target, options, baseline)


@dataclass(frozen=True)
class SeededStore:
    database_url: str
    master_key: str  # base64, as CONSENT_MASTER_KEY: the contact points are encrypted under it


def seed_store(name: str, database_url: str, options: Options, processes: int) -> SeededStore:
    store = SeededStore(database_url, new_master_key())
    progress(f"{name}: seeding {options.customers:,} customers")
    started = time.perf_counter()
    seeding.seed(database_url, store.master_key, customer_ids(options.customers), processes)
    progress(f"{name}: seeded in {time.perf_counter() - started:.1f}s")
    return store


class SqliteTemplate:
    """The customers seeded once a bench run, copied for each SQLite target."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / "seeded.db"
        self._seeded: SeededStore | None = None

    def copy(self, options: Options, directory: Path) -> SeededStore:
        if self._seeded is None:
            url = f"sqlite:///{self._path}"
            self._seeded = seed_store("consent SQLite", url, options, processes=1)
        path = directory / "consent.db"
        # Closed by now, so the file and any write-ahead log left beside it are whole.
        for suffix in ("", "-wal"):
            source = self._path.with_name(self._path.name + suffix)
            if source.exists():
                shutil.copyfile(source, path.with_name(path.name + suffix))
        return replace(self._seeded, database_url=f"sqlite:///{path}")


def run_sqlite(
    options: Options, workers: int, baseline: Baseline, template: SqliteTemplate
) -> Runs:
    with tempfile.TemporaryDirectory(prefix="consent-bench-") as directory:
        store = template.copy(options, Path(directory))
        return run_consent("consent SQLite", store, workers, options, baseline)


def run_postgres(options: Options, baseline: Baseline) -> Runs:
    with postgres_schema() as schema:
        url = f"postgresql+psycopg://root@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        # Two processes: each PostgreSQL transaction waits on a round trip at a time.
        store = seed_store("consent PostgreSQL", url, options, processes=2)
        return run_consent("consent PostgreSQL", store, options.postgres_workers, options, baseline)


def attempt(name: str, run: Callable[[Options], Runs], options: Options) -> Runs | None:
    """One target; a failure is reported and leaves the others to run."""
    try:
        return run(options)
    except Exception as exc:  # one broken target must not hide the others' figures
        progress(f"{name} FAILED: {exc}")
        return None


# --- the report ---------------------------------------------------------------------------


def _row(name: str, runs: Runs | None, first: Measurement | None) -> str:
    if runs is None:
        return f"| {name} | failed | - | - | - | - | - |"
    result = runs.saturated
    x_bare = runs.x_bare(first)
    ratio = f"{x_bare:.2f}" if x_bare is not None else "-"
    beside = " / ".join(f"{bare.rate:,.0f}" for bare in runs.beside) if runs.beside else "-"
    return (
        f"| {name} | {result.rate:,.0f} | {ratio} | {beside} | {result.p50_ms:.2f} | "
        f"{result.p99_ms:.2f} | {result.errors} |"
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _ratio_line(name: str, runs: Runs | None, first: Measurement | None, goal: float) -> str:
    ratio = runs.x_bare(first) if runs is not None else None
    if ratio is None:
        return f"  {name:<13} x bare >= {goal:<4}   n/a"
    # Three decimals: 0.498 printed as "0.50 FAIL" read as a wrong verdict.
    return f"  {name:<13} x bare >= {goal:<4}   {ratio:6.3f}   {_verdict(ratio >= goal)}"


def _p99_line(name: str, result: Measurement | None, how: str) -> str:
    label = f"p99 <= {P99_TARGET_MS:.0f} ms {how}"
    if result is None:
        return f"  {name:<13} {label:<28} n/a"
    ok = result.p99_ms <= P99_TARGET_MS
    return f"  {name:<13} {label:<28} {result.p99_ms:6.2f}   {_verdict(ok)}"


def _paced_row(name: str, runs: Runs | None) -> str:
    if runs is None or runs.paced is None:
        return f"| {name} | failed | - | - | - | - |"
    paced = runs.paced
    load = f"{paced.rate / runs.saturated.rate:.0%}" if runs.saturated.rate else "-"
    return (
        f"| {name} | {paced.rate:,.0f} | {load} | {paced.p50_ms:.2f} | "
        f"{paced.p99_ms:.2f} | {paced.errors} |"
    )


def _few_row(name: str, runs: Runs | None, first: Runs | None) -> str:
    few = runs.few if runs is not None else None
    if few is None:
        return f"| {name} | failed | - | - | - | - |"
    bare = first.few if first is not None else None
    ratio = f"{few.rate / bare.rate:.2f}" if bare and bare.rate else "-"
    return (
        f"| {name} | {few.rate:,.0f} | {ratio} | {few.p50_ms:.2f} | {few.p99_ms:.2f} | "
        f"{few.errors} |"
    )


def _few_table(runs: dict[str, Runs | None], options: Options) -> None:
    print()
    print(
        f"at {options.few_connections} connections, as fast as each answers (x bare: against "
        "the bare app's own run at the start, minutes apart: drift included)"
    )
    print()
    print("| target | req/s | x bare | p50 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    first = runs["bare FastAPI"]
    for name, found in runs.items():
        print(_few_row(name, found, first))


def _cpu_row(name: str, runs: Runs | None, first: Measurement | None) -> str:
    cost = runs.saturated.cpu_per_request_us if runs is not None else None
    if runs is None or cost is None:
        return f"| {name} | n/a | - | - |"
    bare = runs.bare_cpu_us(first)
    ratio = f"{cost / bare:.2f}" if bare else "-"
    return f"| {name} | {cost:,.0f} | {f'{bare:,.0f}' if bare else '-'} | {ratio} |"


def _cpu_table(runs: dict[str, Runs | None], first: Measurement | None) -> None:
    print()
    print("server CPU a request in the saturated runs: the server's own processes, all its")
    print("workers (not PostgreSQL's, not wrk's), from /proc; less tied to wrk than the rates")
    print()
    print("| target | CPU us a request | bare beside it, us | x bare |")
    print("| --- | ---: | ---: | ---: |")
    for name, found in runs.items():
        print(_cpu_row(name, found, first))


def _paced_table(runs: dict[str, Runs | None], options: Options) -> None:
    print()
    print(
        f"paced: {options.paced_rate:,} req/s offered over {options.connections} connections, "
        "each waiting a random (exponential) time between an answer and its next request"
    )
    print()
    print("| target | req/s | of its saturated rate | p50 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, found in runs.items():
        print(_paced_row(name, found))


def report(runs: dict[str, Runs | None], options: Options) -> None:
    results = {name: found.saturated if found else None for name, found in runs.items()}
    generator = (
        f"wrk -t{min(WRK_THREADS, options.connections)} -c{options.connections} "
        f"-d{options.seconds}s"
        if options.wrk
        else f"asyncio + httpx, {options.connections} connections, {options.seconds}s "
        "(wrk not found: fallback generator, slower than wrk)"
    )
    first = results["bare FastAPI"]
    print()
    print(f"POST {CHECK_PATH} on 127.0.0.1: load {generator}, {options.customers} customers, "
          f"warm-up {WARMUP_SECONDS}s; bare FastAPI 1 worker")  # fmt: skip
    print()
    print("| target | req/s | x bare | bare beside it, req/s | p50 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, found in runs.items():
        print(_row(name, found, first))
    print()
    shares = ", ".join(
        f"{name} {result.allow_share:.1%}" if result else f"{name} n/a"
        for name, result in results.items()
    )
    print(f"share of decision allow: {shares}")
    _cpu_table(runs, first)
    if options.paced_rate:
        _paced_table(runs, options)
    if options.few_connections:
        _few_table(runs, options)
    print()
    if not options.wrk:
        # Seen on 2026-12-07: the fallback made 144 req/s of the bare app and "2.27 x bare"
        # of the service. Its figures are the generator's own; a verdict on them misleads.
        print("targets: not judged: the fallback generator, not the servers, set these")
        print("figures (install wrk: apt-get install -y wrk)")
        return
    print("targets (x bare: against the mean of the bare runs just before and after it):")
    for name, result in results.items():
        if name.startswith("consent"):
            store = "SQLite" if "SQLite" in name else "PostgreSQL"
            target = SQLITE_TARGET if store == "SQLite" else POSTGRES_TARGET
            label = f"{store} {name.rsplit(', ', 1)[-1].split()[0]}w"
            print(_ratio_line(label, runs[name], first, target))
            print(_p99_line(label, result, "saturated"))
            found = runs[name]
            if options.paced_rate:
                paced = found.paced if found else None
                print(_p99_line(label, paced, f"at {options.paced_rate:,} req/s"))
            if options.few_connections:
                few = found.few if found else None
                print(_p99_line(label, few, f"at {options.few_connections} conns"))
    # What the saturated p99 target means here: with every connection busy a request waits
    # about connections / rate, so the bare app's own p99 is the floor for any server.
    print("the same limit on the baseline itself (no verdict on the service):")
    print(_p99_line("bare", first, "saturated"))


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gate",
        description="Benchmark POST /v1/checks against a bare FastAPI app.",
    )
    parser.add_argument("--seconds", type=int, default=10, help="timed seconds per target")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help="customers to seed; each request names one at random",
    )
    parser.add_argument(
        "--skip",
        choices=["sqlite", "postgres"],
        action="append",
        default=[],
        help="leave a store out (while iterating on the other); the bare baseline always runs",
    )
    parser.add_argument(
        "--sqlite-workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="consent serve --workers for SQLite; one row per count",
    )
    parser.add_argument("--postgres-workers", type=int, default=2, help="consent serve --workers")
    parser.add_argument(
        "--paced-rate",
        type=int,
        default=PACED_RATE,
        help="req/s offered in each target's second, paced run (0: no paced run)",
    )
    parser.add_argument(
        "--few-connections",
        type=int,
        default=FEW_CONNECTIONS,
        help="connections of each target's third run, as fast as it answers (0: no such run)",
    )
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.connections < 1 or not 1 <= args.customers <= seeding.MAX_CUSTOMERS:
        parser.error(
            f"need --seconds >= 1, --connections >= 1, 1 <= --customers <= {seeding.MAX_CUSTOMERS}"
        )
    if args.paced_rate < 0 or args.few_connections < 0:
        parser.error("need --paced-rate >= 0 and --few-connections >= 0")
    return Options(
        args.seconds,
        args.connections,
        args.customers,
        shutil.which("wrk"),
        tuple(args.skip),
        tuple(args.sqlite_workers),
        args.postgres_workers,
        args.paced_rate,
        args.few_connections,
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    if not options.wrk:
        progress("wrk not found: using the asyncio + httpx load generator")
    # The bare app stays up for the whole run, idle but for the baselines beside each target.
    with (
        server(bare_command, dict(os.environ)) as bare_server,
        tempfile.TemporaryDirectory(prefix="consent-bench-template-") as template_directory,
    ):
        template = SqliteTemplate(Path(template_directory))
        bare = Target("bare FastAPI", bare_server, None, customer_ids(options.customers))
        baseline: Baseline = partial(timed_load, bare, options)
        runs: dict[str, Callable[[Options], Runs]] = {"bare FastAPI": partial(measure, bare)}
        if "sqlite" not in options.skip:
            for workers in options.sqlite_workers:
                name = f"consent SQLite, {workers} worker(s)"
                runs[name] = partial(
                    run_sqlite, workers=workers, baseline=baseline, template=template
                )
        if "postgres" not in options.skip:
            name = f"consent PostgreSQL, {options.postgres_workers} workers"
            runs[name] = partial(run_postgres, baseline=baseline)
        results = {name: attempt(name, run, options) for name, run in runs.items()}
    report(results, options)


if __name__ == "__main__":
    main()
