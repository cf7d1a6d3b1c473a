"""Where the API token lives: the OS keyring when one works, else a 0600 file (as `gh` does).

`keyring` raises NoKeyringError on a headless Linux box (no Secret Service): there, and when
the package is absent or AGENTCLI_NO_KEYRING is set, the token goes into
`credentials.json` in the user config dir, created with mode 0600 in a 0700 directory and
replaced atomically, so no other user can read it and a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

CONFIG_ENV = "AGENTCLI_CONFIG_DIR"
NO_KEYRING_ENV = "AGENTCLI_NO_KEYRING"
KEYRING_SERVICE = "agentcli"
FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    login: str
    token: str
    insecure: bool = False


def config_dir() -> Path:
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    return Path(user_config_dir("agentcli", appauthor=False))


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def _keyring() -> Any | None:
    if os.environ.get(NO_KEYRING_ENV):
        return None
    try:
        import keyring  # optional: not a dependency
    except ImportError:
        return None
    return keyring


def save(credentials: Credentials) -> str:
    """Store the credentials; return where the token went ("keyring" or the file path)."""
    record: dict[str, Any] = {
        "server": credentials.server,
        "login": credentials.login,
        "insecure": credentials.insecure,
    }
    where = str(credentials_path())
    keyring = _keyring()
    stored = False
    if keyring is not None:
        try:
            keyring.set_password(KEYRING_SERVICE, credentials.server, credentials.token)
            stored, where = True, "keyring"
        except Exception:  # NoKeyringError, a locked or broken backend: fall back to the file
            stored = False
    if stored:
        record["token_in_keyring"] = True
    else:
        record["token"] = credentials.token
    _write_private(credentials_path(), json.dumps(record, indent=2) + "\n")
    return where


def load() -> Credentials | None:
    path = credentials_path()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("server"), str):
        return None
    token = record.get("token")
    if record.get("token_in_keyring"):
        keyring = _keyring()
        try:
            token = keyring.get_password(KEYRING_SERVICE, record["server"]) if keyring else None
        except Exception:
            token = None
    if not isinstance(token, str) or not token:
        return None
    return Credentials(
        record["server"], str(record.get("login", "")), token, bool(record.get("insecure"))
    )


def delete() -> bool:
    """Forget the token (file and keyring); True if there was one."""
    path = credentials_path()
    found = load()
    if found is not None and (keyring := _keyring()) is not None:
        with contextlib.suppress(Exception):
            keyring.delete_password(KEYRING_SERVICE, found.server)
    try:
        path.unlink()
    except FileNotFoundError:
        return found is not None
    return True


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    # O_CREAT with 0600 from the start: the token is never readable by others, not even briefly.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing temp file keeps its old mode under O_CREAT
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
