"""The token vault: one encrypted file per entry under a data directory — or, for
replicas on a shared PostgreSQL, one row per entry in its `vault_entries` table (the
same Fernet tokens, byte for byte: store/vault_rows.py), behind the same `TokenVault`.

Files are 0600 in a 0700 directory and written atomically (a temporary file in the
same directory, fsync, rename, fsync of the directory: POSIX rename(2) replaces the
name in one step, so a crash leaves the old file or the new one, never half of one).
There is no way to build a vault without a key: tokens are never stored in clear.

Each entry is bound to its name: the encrypted payload starts with a marker and the
entry's name, under Fernet's HMAC (which authenticates the whole token, so this serves
as associated data would), and is refused when read under another name. A file copied
or renamed to another account's entry (`google.work.secret` → `google.home.secret`)
cannot make one account read another's mailbox. An entry written before names were
bound is bound on its first read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from ghostwatch import private
from ghostwatch.errors import KEY_HOWTO, ForeignEntry, MissingKey, UserError
from ghostwatch.vault.keys import SecretKey

SUFFIX = ".secret"
# Entry names become file names: no separators, no dot files, no surprises.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}")
_BOUND = b"ghostwatch-vault-entry/1\n"


class Entries(Protocol):
    """Where the encrypted entries are kept: files (`FileEntries`) or database rows."""

    def read(self, name: str) -> bytes | None: ...

    def write(self, name: str, data: bytes) -> None: ...

    def remove(self, name: str) -> None: ...

    def names(self) -> list[str]: ...

    def where(self, name: str) -> str:
        """The entry as a message names it (a path, or the database's entry)."""
        ...


class TokenVault:
    def __init__(
        self, directory: Path, key: SecretKey | None, entries: Entries | None = None
    ) -> None:
        if key is None:
            raise MissingKey(f"refusing to store tokens in clear: {KEY_HOWTO}")
        self.directory = directory
        self._key = key
        self.entries: Entries = entries or FileEntries(directory)

    def put(self, name: str, secret: bytes) -> None:
        self.check_name(name)
        self.entries.write(name, self._key.encrypt(_BOUND + name.encode("ascii") + b"\n" + secret))

    def get(self, name: str) -> bytes | None:
        self.check_name(name)
        data = self.entries.read(name)
        if data is None:
            return None
        path = self.entries.where(name)
        plain = self._key.decrypt(data, str(path))
        if not plain.startswith(_BOUND):
            self.put(name, plain)  # from before entries were bound: bind it now
            return plain
        bound, _, secret = plain[len(_BOUND) :].partition(b"\n")
        if bound != name.encode("ascii"):
            raise ForeignEntry(
                f"{path} was written for {bound.decode('ascii', 'replace')!r}, not {name!r} "
                "(copied or renamed): delete it and sign the account in again"
            )
        return secret

    def put_json(self, name: str, value: dict[str, Any]) -> None:
        self.put(name, json.dumps(value, sort_keys=True).encode("utf-8"))

    def get_json(self, name: str) -> dict[str, Any] | None:
        data = self.get(name)
        if data is None:
            return None
        value = json.loads(data)
        if not isinstance(value, dict):
            raise UserError(f"{self.entries.where(name)} does not hold a ghostwatch vault entry")
        return value

    def delete(self, name: str) -> None:
        self.check_name(name)
        self.entries.remove(name)

    def names(self) -> list[str]:
        return self.entries.names()

    def check_name(self, name: str) -> None:
        """Refuse a name no entry can have, before any work is done to fill it."""
        if not _NAME.fullmatch(name):
            raise UserError(
                f"{name!r} cannot name a vault entry: use letters, digits and . _ @ + - "
                "(at most 128, not starting with a dot)"
            )

    def __repr__(self) -> str:
        return f"TokenVault({self.entries!r})"


class FileEntries:
    """One file per entry, NAME.secret, in a 0700 folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, name: str) -> bytes | None:
        path = self._path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror}") from None

    def write(self, name: str, data: bytes) -> None:
        self._ensure_directory()
        _write_atomically(self._path(name), data)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(path.name[: -len(SUFFIX)] for path in self.directory.glob(f"*{SUFFIX}"))

    def where(self, name: str) -> str:
        return str(self._path(name))

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}{SUFFIX}"

    def _ensure_directory(self) -> None:
        try:
            private.make_folder(self.directory)
        except OSError as error:
            raise UserError(
                f"cannot create the data directory {self.directory}: {error.strerror}"
            ) from None

    def __repr__(self) -> str:
        return f"FileEntries({str(self.directory)!r})"


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # mkstemp makes 0600 already; say it anyway
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise UserError(f"cannot write {path}: {error.strerror}") from None
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (the directory entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def vault_in(data_dir: Path, key: SecretKey | None) -> TokenVault:
    """The service's vault: DATA_DIR/tokens (the CLI and the daemon agree on it)."""
    return TokenVault(data_dir.expanduser() / "tokens", key)
