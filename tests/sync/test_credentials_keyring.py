"""`agentcli login` with an OS keyring: the token goes to the keyring and never into the file;
a keyring that refuses falls back to the 0600 file; `logout` removes it from both.

The OS keyring (Secret Service over D-Bus, macOS Keychain) cannot be reached on a headless
CI machine, so a keyring backend that keeps passwords in memory stands in for it, installed
through `keyring`'s own API; the server, the CLI and the credentials file are real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

from agentcli.cli.main import main
from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import open_engine
from agentcli.server.runner import start_in_thread
from agentcli.sync import credentials


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, *, locked: bool = False) -> None:
        super().__init__()
        self.locked = locked
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("the keyring is locked")
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    engine = open_engine(str(tmp_path / "server.db"))
    token = auth.add_agent(engine, "olena", Role.AGENT)
    running = start_in_thread(create_app(engine))
    try:
        yield running.url, token
    finally:
        running.stop()
        engine.dispose()


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv(credentials.CONFIG_ENV, str(folder))
    monkeypatch.delenv(credentials.NO_KEYRING_ENV, raising=False)
    return folder


@pytest.fixture
def use_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


def agentcli(tmp_path: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "store.db"), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_login_puts_the_token_in_the_keyring_not_the_file(
    server: tuple[str, str], config_dir: Path, use_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    url, token = server
    answer = agentcli(tmp_path, "login", url, "--token", token)
    assert answer["token"] == "keyring" and answer["agent"] == "olena"
    assert use_keyring.passwords == {(credentials.KEYRING_SERVICE, url): token}
    saved = (config_dir / credentials.FILE_NAME).read_text(encoding="utf-8")
    assert token not in saved and json.loads(saved)["token_in_keyring"] is True
    assert (config_dir / credentials.FILE_NAME).stat().st_mode & 0o777 == 0o600
    # The next command finds the token through the keyring and reaches the server with it.
    agentcli(tmp_path, "sync", "--once")
    status = agentcli(tmp_path, "status")
    assert status["online"] is True and status["last_error"] is None

    assert agentcli(tmp_path, "logout") == {"logged_out": True}
    assert use_keyring.passwords == {}
    assert not (config_dir / credentials.FILE_NAME).exists()


def test_a_locked_keyring_falls_back_to_the_private_file(
    server: tuple[str, str], config_dir: Path, use_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    use_keyring.locked = True
    url, token = server
    answer = agentcli(tmp_path, "login", url, "--token", token)
    path = config_dir / credentials.FILE_NAME
    assert answer["token"] == str(path)
    assert json.loads(path.read_text(encoding="utf-8"))["token"] == token
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_token_the_keyring_lost_means_logged_out(
    server: tuple[str, str], config_dir: Path, use_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    url, token = server
    agentcli(tmp_path, "login", url, "--token", token)
    use_keyring.passwords.clear()  # e.g. the user removed it in the OS keyring manager
    assert credentials.load() is None
