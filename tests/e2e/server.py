"""Start `consent serve` as a real process on a free 127.0.0.1 port, and stop it."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from tests.stores import postgres_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _without_consent_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment without CONSENT_*: each server gets only what it is given."""
    return {name: value for name, value in environ.items() if not name.startswith("CONSENT_")}


def cli(
    env: dict[str, str], *args: str, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**_without_consent_settings(os.environ), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    cwd: str | None = None
    lines: list[str] = field(default_factory=list)  # what it wrote, read as it goes
    process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        return "".join(self.lines)

    def key(self, role: str, name: str) -> str:
        done = cli(self.env, "keys", "create", "--role", role, "--name", name, cwd=self.cwd)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]


@contextmanager
def running_server(
    env: dict[str, str], workers: int = 1, start_timeout: float = 30.0, cwd: str | None = None
) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**_without_consent_settings(os.environ), **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    server = Server(base_url, env, cwd, process=process)
    # Read all along: a request log line a check fills the pipe's 64 KiB within a few hundred
    # requests, and a server blocked on writing its log would stop answering.
    reader = threading.Thread(target=_collect, args=(process, server.lines), daemon=True)
    reader.start()
    try:
        _wait_until_up(process, base_url, start_timeout, server, reader)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        reader.join(timeout=5)


def _collect(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    if process.stdout is not None:
        for line in process.stdout:
            lines.append(line.decode(errors="replace"))


def _wait_until_up(
    process: subprocess.Popen[bytes],
    base_url: str,
    timeout: float,
    server: Server,
    reader: threading.Thread,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            reader.join(timeout=5)  # it ends at the exited server's last line
            output = server.output()
            raise RuntimeError(f"consent serve exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"consent serve did not answer on {base_url} within {timeout}s")


def store_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key_b64: str
) -> dict[str, str]:
    """The environment of a server on the store ``request.param`` names: a fresh SQLite file,
    or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'consent.db'}"
    else:
        url = postgres_url(request.getfixturevalue("postgres_schema"))
    return {
        "CONSENT_DATABASE_URL": url,
        "CONSENT_MASTER_KEY": master_key_b64,
        "CONSENT_ENVIRONMENT": "test",
    }
