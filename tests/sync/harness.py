"""Real processes for the sync proofs: an `agentcli serve` subprocess, a TCP fault proxy, and
`agentcli` client subprocesses against their own store files."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from agentcli.domain.vocabulary import Priority


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`agentcli serve` on a loopback port, killable and restartable on the same port."""

    def __init__(self, db: Path, port: int | None = None) -> None:
        self.db, self.port = db, port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentcli",
                "serve",
                "--db",
                str(self.db),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class FaultProxy:
    """A loopback TCP proxy that, while `faults` is on, drops, delays, resets and truncates
    connections at random (seeded). Runs its own asyncio loop in a thread."""

    def __init__(
        self,
        target_port: int,
        seed: int = 1,
        cut_within: tuple[int, int] = (1, 4000),
        weights: dict[str, int] | None = None,
    ) -> None:
        self.target_port = target_port
        self.weights = weights or {
            "clean": 40,
            "drop": 15,
            "delay": 15,
            "reset": 15,
            "truncate": 15,
        }
        self.cut_within = cut_within  # bytes of the answer passed before a reset or truncation
        self.port = free_port()
        self.faults = True
        self.rng = random.Random(seed)
        self.counts = {"drop": 0, "delay": 0, "reset": 0, "truncate": 0, "clean": 0}
        self.connections = 0  # every accepted connection, faulty or not
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        fault = "clean"
        if self.faults:
            fault = self.rng.choices(list(self.weights), list(self.weights.values()))[0]
        self.counts[fault] += 1
        if fault == "drop":
            writer.close()
            return
        if fault == "delay":
            await asyncio.sleep(self.rng.uniform(0.05, 0.5))
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        budget = self.rng.randint(*self.cut_within) if fault in ("reset", "truncate") else None

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut: bool) -> None:
            nonlocal budget
            try:
                while data := await src.read(4096):
                    if cut and budget is not None:
                        if len(data) >= budget:
                            dst.write(data[:budget])
                            await dst.drain()
                            if fault == "reset":
                                sock = dst.get_extra_info("socket")
                                if sock is not None:  # RST instead of FIN
                                    sock.setsockopt(
                                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0"
                                    )
                            dst.close()
                            return
                        budget -= len(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                if not dst.is_closing():
                    dst.close()

        # Faults cut the server's answer (the client's request reached the server or not).
        await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except OSError:  # ended meanwhile
                continue
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has ended: only its exit status waits to be read)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def client_env(store: Path, config: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AGENTCLI_DB": str(store),
        "AGENTCLI_CONFIG_DIR": str(config),
        "AGENTCLI_NO_KEYRING": "1",
    }


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Launcher:
    """Client processes forked from a warm `python -m tests.sync.launcher` (see there)."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.launcher"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == {"ready": True}

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the launcher died")
        return json.loads(line)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def spawn(self, env: dict[str, str], *args: str) -> int:
        return int(self._ask({"op": "spawn", "args": list(args), "env": env})["pid"])

    def wait(self, pid: int) -> dict[str, Any]:
        """{"signal": 9, ...} for a process we killed, {"code": N, ...} if it exited first."""
        return self._ask({"op": "wait", "pid": pid})

    def run(self, env: dict[str, str], *args: str) -> int:
        return self.wait(self.spawn(env, *args))["code"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def server_checksum(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        tickets = conn.execute(
            "SELECT id, subject, status, priority, queue, assignee, tags, case_type, case_state,"
            " version, updated_at, snoozed_until FROM tickets ORDER BY id"
        ).fetchall()
        messages = conn.execute(
            "SELECT id, ticket_id, kind, author_kind, author, body, created_at"
            " FROM messages ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return {
        "tickets": [(*t[:5], t[5] or None, json.loads(t[6]), *t[7:]) for t in tickets],
        "messages": [tuple(m) for m in messages],
    }


def local_checksum(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        tickets = conn.execute(
            "SELECT id, subject, status, priority, queue, assignee, tags, case_type, case_state,"
            " version, updated_at, snoozed_until FROM tickets ORDER BY id"
        ).fetchall()
        messages = conn.execute(
            "SELECT id, ticket_id, kind, author_kind, author, body, created_at"
            " FROM messages ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return {
        "tickets": [
            (*t[:3], str(Priority.from_rank(t[3])), t[4], t[5] or None, json.loads(t[6]), *t[7:])
            for t in tickets
        ],
        "messages": [tuple(m) for m in messages],
    }
