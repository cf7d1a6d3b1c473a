"""Running the app on uvicorn: in the foreground (CLI) or a background thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


def run(app: FastAPI, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


@dataclass
class ThreadedServer:
    """A real uvicorn server on a loopback port, for tests and benchmarks."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=2)  # a clean shutdown runs the lifespan's exit quietly
        if self.thread.is_alive():
            self.server.force_exit = True  # open SSE streams would hold it: cut them
            self.thread.join(timeout=10)


def start_in_thread(app: FastAPI, host: str = "127.0.0.1") -> ThreadedServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # the kernel picks a free port: parallel runs never collide
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return ThreadedServer(server, thread, f"http://{host}:{port}")
