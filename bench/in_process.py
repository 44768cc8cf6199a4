"""``POST /v1/checks`` in one process, without HTTP: CPU time or instructions a check.

Run by hand, never by pytest::

    .venv/bin/python -m bench.in_process [--layer app|gate|bare] [--checks 3000] [--rounds 3]
    .venv/bin/python -m bench.in_process --instructions [--layer app|gate|bare] [--checks 400]

``bench.gate`` measures what a CRM sees, over HTTP beside a bare app; on this shared
machine its figures move by a fifth between identical runs. This one takes uvicorn and
the load generator away and drives the ASGI app (``--layer app``: request log, auth,
parsing, the gate, the answer) or ``Gate.check_async`` alone (``--layer gate``) from 64
concurrent tasks, on a temporary SQLite file seeded as ``bench.gate`` seeds it.
``--layer bare`` sends the same requests to ``bench.gate``'s baseline, the bare FastAPI
app: what an endpoint costs without uvicorn, to set a layer's figure against.

CPU time a check still moves with the machine. ``--instructions`` runs the same load under
valgrind's callgrind, counting only the timed checks, whatever else the machine does.
Separate runs of the same code still differ by up to ~1 % (2026-12-07: 1,159k-1,173k a
check): how many checks share a batch, and what the checkpoint thread does meanwhile,
depend on timing. A change worth a few per cent shows in one run; repeat for less. It is
~40x slower: keep ``--checks`` to a few hundred. Instructions are not time (a cache miss or a
syscall costs more than its count), so confirm a gain with ``bench.gate`` too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from audit.entry import Actor
from bench import gate as http_bench
from bench import seeding
from bench.bare_app import app as bare_app
from consent.gate import CheckCommand
from consent.keys import Role, create_key
from consent.store.database import make_engine, transaction
from consent.store.migrate import migrate
from policy.vocabulary import Channel, Purpose, Source

CONCURRENCY = 64  # as bench.gate's connections
WARMUP_CHECKS = 1_000  # fills the caches (customer states, statements, key) before timing
_INSIDE = "--inside-callgrind"  # the run valgrind starts: it toggles counting itself

Check = Callable[[int], Awaitable[None]]


def settings_for(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        log_level="info",  # as deployed: one JSON log line a request
    )


def new_key(database_url: str) -> str:
    engine = make_engine(database_url)
    migrate(engine)
    with transaction(engine) as conn:
        key = create_key(conn, "bench", Role.CRM_SERVICE, datetime.now(UTC), None)
    engine.dispose()
    return key


def app_check(app: FastAPI, api_key: str, ids: list[str]) -> Check:
    """One POST /v1/checks as uvicorn would hand it to ``app`` (ours or the bare one)."""
    headers = [
        (b"authorization", f"Bearer {api_key}".encode()),
        (b"content-type", b"application/json"),
        (b"host", b"in-process"),
    ]

    async def check(index: int) -> None:
        body = orjson.dumps(http_bench.check_body(ids[index % len(ids)]))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/v1/checks",
            "raw_path": b"/v1/checks", "query_string": b"", "root_path": "",
            "headers": [*headers, (b"idempotency-key", uuid.uuid4().hex.encode()),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        if statuses != [200]:
            raise RuntimeError(f"a check answered {statuses}")

    return check


def gate_check(app: FastAPI, ids: list[str]) -> Check:
    """The same check handed to the gate directly: no request log, auth or parsing."""
    gate = app.state.services.gate
    actor = Actor(name="bench", role=str(Role.CRM_SERVICE))
    send_at = datetime.fromisoformat(http_bench.SEND_AT)

    async def check(index: int) -> None:
        command = CheckCommand(
            customer_id=ids[index % len(ids)],
            channel=Channel.PHONE,
            purpose=Purpose.MARKETING,
            source=Source.TELEMARKETING,
            idempotency_key=uuid.uuid4().hex,
            send_at=send_at,
        )
        await gate.check_async(command, actor, datetime.now(UTC))

    return check


async def run_concurrently(check: Check, count: int) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int) -> None:
        async with limit:
            await check(index)

    await asyncio.gather(*(one(index) for index in range(count)))


class Counting:
    """callgrind's counter, switched on for the timed checks only (``callgrind_control``)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def switch(self, *arguments: str) -> None:
        if self.enabled:
            subprocess.run(  # noqa: S603 - valgrind's own tool, this process's id
                ["callgrind_control", *arguments, str(os.getpid())],  # noqa: S607
                check=True,
                capture_output=True,
            )


async def measure(options: argparse.Namespace, database_url: str) -> None:
    api_key = new_key(database_url)
    settings = settings_for(database_url)
    ids = http_bench.customer_ids(options.customers)
    seeding.seed(database_url, settings.master_key.get_secret_value(), ids)  # bench.gate's
    app = create_app(settings)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the request log, one line a check
    counting = Counting(options.inside_callgrind)
    async with app.router.lifespan_context(app):
        check = {
            "app": lambda: app_check(app, api_key, ids),
            "gate": lambda: gate_check(app, ids),
            "bare": lambda: app_check(bare_app, api_key, ids),
        }[options.layer]()
        await run_concurrently(check, WARMUP_CHECKS)
        for round_number in range(1, options.rounds + 1):
            counting.switch("--instr=on")
            cpu, wall = time.process_time(), time.perf_counter()
            await run_concurrently(check, options.checks)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            counting.switch("--dump=timed")
            counting.switch("--instr=off")
            report(
                f"round {round_number}: {1e6 * cpu / options.checks:,.0f} us CPU a check, "
                f"{1e6 * wall / options.checks:,.0f} us wall ({options.layer})"
            )


def report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def count_instructions(options: argparse.Namespace) -> None:
    """Run this script under callgrind and print the timed checks' instructions a check."""
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found: apt-get install -y valgrind")
    with tempfile.TemporaryDirectory(prefix="consent-callgrind-") as directory:
        output = Path(directory) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={output}.%p", sys.executable, "-m", "bench.in_process",
            "--layer", options.layer, "--checks", str(options.checks), "--rounds", "1",
            "--customers", str(options.customers), _INSIDE,
        ]  # fmt: skip
        report(f"callgrind, a minute or more: {' '.join(command)}")
        subprocess.run(command, check=True)  # noqa: S603 - valgrind, our interpreter, our args
        dumps = [path for path in Path(directory).iterdir() if path.name.endswith(".1")]
        if len(dumps) != 1:
            sys.exit(f"expected one dump of the timed checks, found {len(dumps)}")
        total = _summary(dumps[0])
    print(f"{options.layer}: {total // options.checks:,} instructions a check")


def _summary(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary line in {dump}")


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", choices=["app", "gate", "bare"], default="app")
    parser.add_argument("--checks", type=int, default=None, help="timed checks a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument(_INSIDE, action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.checks is None:
        options.checks = 400 if options.instructions or options.inside_callgrind else 3_000
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    if options.instructions:
        count_instructions(options)
        return
    with tempfile.TemporaryDirectory(prefix="consent-in-process-") as directory:
        asyncio.run(measure(options, f"sqlite:///{Path(directory) / 'consent.db'}"))


if __name__ == "__main__":
    main()
