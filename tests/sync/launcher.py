"""A fork server for `agentcli` client processes: `python -m tests.sync.launcher`.

It imports the CLI once, then forks a child per request that runs the real `agentcli` entry
point (click `main`) with the given arguments and environment. Each child is an ordinary
process with its own pid, SQLite connection and sockets, killed with a real SIGKILL; what it
skips is the interpreter start and imports (1-3 s on a loaded 2-core machine), which used to
take the whole kill window: the kill -9 test's clients died before their first request.

Protocol, one JSON line each way:
  {"op": "spawn", "args": [...], "env": {...}} -> {"pid": N}
  {"op": "wait", "pid": N}                      -> {"pid": N, "signal": S | null, "code": C | null}
"""

from __future__ import annotations

import json
import os
import random
import sys
from typing import Any


def _child(args: list[str], env: dict[str, str]) -> None:
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # never write into the launcher's protocol pipe
            os.dup2(devnull, fd)
        os.environ.clear()
        os.environ.update(env)
        random.seed()  # backoff jitter must not repeat the launcher's sequence in every child
        from agentcli.cli.main import main

        main(args, prog_name="agentcli")
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _wait(pid: int) -> dict[str, Any]:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"pid": pid, "signal": os.WTERMSIG(status), "code": None}
    return {"pid": pid, "signal": None, "code": os.WEXITSTATUS(status)}


def serve() -> None:
    # Everything a sync run imports, loaded once before any fork (no threads, no connections).
    import agentcli.cli.main
    import agentcli.cli.sync_cmd
    import agentcli.cli.write_cmd  # noqa: F401

    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _child(request["args"], request["env"])
            answer: dict[str, Any] = {"pid": pid}
        else:
            answer = _wait(request["pid"])
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
