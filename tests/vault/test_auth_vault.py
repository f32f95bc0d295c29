"""The token vault: encrypted at rest, 0600, atomic, and never without a key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ghostwatch.errors import BadKey, MissingKey, UserError, WrongKey
from ghostwatch.vault.keys import SecretKey, new_key, resolve_key
from ghostwatch.vault.tokens import TokenVault

REFRESH = "1//0gREFRESH-token-value-that-must-never-be-on-disk"
ACCESS = "ya29.a0ACCESS-token-value-that-must-never-be-on-disk"


@pytest.fixture
def key() -> SecretKey:
    return resolve_key(new_key(), None)


def vault_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def test_tokens_written_through_the_vault_are_not_on_disk(tmp_path: Path, key: SecretKey) -> None:
    vault = TokenVault(tmp_path / "data", key)
    vault.put_json("google.alex", {"refresh_token": REFRESH, "token": ACCESS})
    vault.put("msal.alex", ACCESS.encode())

    raw = vault_bytes(tmp_path)
    assert raw, "the vault wrote nothing"
    for secret in (REFRESH, ACCESS, "REFRESH-token", "ACCESS-token"):
        assert secret.encode() not in raw
    assert vault.get_json("google.alex") == {"refresh_token": REFRESH, "token": ACCESS}
    assert vault.get("msal.alex") == ACCESS.encode()
    assert vault.names() == ["google.alex", "msal.alex"]


def test_files_are_private(tmp_path: Path, key: SecretKey) -> None:
    vault = TokenVault(tmp_path / "data", key)
    vault.put("google.alex", b"secret")
    (entry,) = (tmp_path / "data").iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_no_key_refuses_to_store_and_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(MissingKey, match="ghostwatch auth key"):
        TokenVault(tmp_path, None)
    with pytest.raises(MissingKey, match="GHOSTWATCH_SECRET_KEY"):
        resolve_key(None, None)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "text", ["hunter2", "x" * 44, "   ", "ZE592J08RMQzdQTwdlXy9djG27GRs3n3wner_Svi"]
)
def test_a_bad_key_is_named(text: str) -> None:
    with pytest.raises(UserError, match=r"GHOSTWATCH_SECRET_KEY|ghostwatch auth key"):
        resolve_key(text, None)


def test_key_from_a_mounted_file(tmp_path: Path) -> None:
    value = new_key()
    (tmp_path / "key").write_text(value + "\n")
    with pytest.raises(BadKey, match="permissions 0644 are too open for a secret"):
        resolve_key(None, tmp_path / "key")  # as ssh refuses a private key others may read
    (tmp_path / "key").chmod(0o600)
    TokenVault(tmp_path / "a", resolve_key(None, tmp_path / "key")).put("x", b"one")
    assert TokenVault(tmp_path / "a", resolve_key(value, None)).get("x") == b"one"
    with pytest.raises(BadKey, match="cannot read the key file"):
        resolve_key(None, tmp_path / "missing")
    with pytest.raises(BadKey, match="keep only one"):
        resolve_key(value, tmp_path / "key")


def test_another_key_cannot_read_and_rotation_can(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    TokenVault(tmp_path, resolve_key(old, None)).put("x", b"token")
    with pytest.raises(WrongKey, match="cannot decrypt"):
        TokenVault(tmp_path, resolve_key(new, None)).get("x")
    rotated = TokenVault(tmp_path, resolve_key(f"{new},{old}", None))
    assert rotated.get("x") == b"token"
    rotated.put("x", b"token")  # re-encrypted with the first key
    assert TokenVault(tmp_path, resolve_key(new, None)).get("x") == b"token"


def test_a_tampered_file_is_refused(tmp_path: Path, key: SecretKey) -> None:
    vault = TokenVault(tmp_path, key)
    vault.put("x", b"token")
    path = tmp_path / "x.secret"
    data = bytearray(path.read_bytes())
    data[40] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(WrongKey):
        vault.get("x")


def test_a_failed_write_keeps_the_old_entry_and_no_temporary(
    tmp_path: Path, key: SecretKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = TokenVault(tmp_path, key)
    vault.put("x", b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(UserError, match="No space left"):
        vault.put("x", b"new")
    monkeypatch.undo()
    assert vault.get("x") == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.secret"]


@pytest.mark.parametrize("name", ["../etc/passwd", ".hidden", "a/b", "", "x" * 200])
def test_entry_names_cannot_escape_the_directory(tmp_path: Path, key: SecretKey, name: str) -> None:
    with pytest.raises(UserError, match="cannot name a vault entry"):
        TokenVault(tmp_path / "data", key).put(name, b"x")


def test_the_key_is_never_in_a_repr(key: SecretKey) -> None:
    assert "hidden" in repr(key)
    assert repr(key).count("=") == 0
