"""The token vault's entries as rows of a shared PostgreSQL (migration 0008).

Replicas share no volume: with `database_url` on PostgreSQL, `ghostwatch auth` writes
and `ghostwatch run` reads the vault here. Each row holds the Fernet token the entry's
file would hold, byte for byte (vault/tokens.py encrypts and binds it to its name before
it gets here), so the key stays outside the database and `import_files` only copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ghostwatch.clock import utc_now
from ghostwatch.store import connect
from ghostwatch.store.tables import VaultRow
from ghostwatch.vault.keys import SecretKey
from ghostwatch.vault.tokens import FileEntries, TokenVault

_ROWS = cast(sa.Table, VaultRow.__table__)  # type: ignore[attr-defined]


class DatabaseEntries:
    """`vault.tokens.Entries` on the database's `vault_entries` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def read(self, name: str) -> bytes | None:
        query = sa.select(_ROWS.c.token).where(_ROWS.c.name == name)
        with self._connection("cannot read the vault in") as connection:
            found = connection.execute(query).scalar_one_or_none()
        return None if found is None else bytes(found)

    def write(self, name: str, data: bytes) -> None:
        row = {"name": name, "token": data, "updated_at": utc_now()}
        statement = postgresql.insert(_ROWS).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"token": statement.excluded.token, "updated_at": statement.excluded.updated_at},
        )
        with self._connection("cannot write the vault in", write=True) as connection:
            connection.execute(statement)

    def add(self, name: str, data: bytes) -> bool:
        """Insert unless an entry of that name exists (kept as it is); True if inserted."""
        row = {"name": name, "token": data, "updated_at": utc_now()}
        statement = postgresql.insert(_ROWS).values(row).on_conflict_do_nothing()
        with self._connection("cannot write the vault in", write=True) as connection:
            return bool(connection.execute(statement.returning(_ROWS.c.name)).first())

    def remove(self, name: str) -> None:
        with self._connection("cannot write the vault in", write=True) as connection:
            connection.execute(sa.delete(_ROWS).where(_ROWS.c.name == name))

    def names(self) -> list[str]:
        with self._connection("cannot read the vault in") as connection:
            return sorted(connection.execute(sa.select(_ROWS.c.name)).scalars())

    def where(self, name: str) -> str:
        return f"the vault entry {name} in the database"

    @contextmanager
    def _connection(self, doing: str, *, write: bool = False) -> Iterator[sa.Connection]:
        """A connection (in a transaction when writing); driver errors as `StoreError`."""
        with (
            connect.translated(self.engine.url, doing),
            self.engine.begin() if write else self.engine.connect() as connection,
        ):
            yield connection

    def __repr__(self) -> str:
        return f"DatabaseEntries({connect.describe(self.engine.url)!r})"


def database_vault(engine: sa.Engine, data_dir: Path, key: SecretKey | None) -> TokenVault:
    """The vault of replicas on a shared PostgreSQL: its entries in the database."""
    return TokenVault(data_dir.expanduser() / "tokens", key, DatabaseEntries(engine))


def import_files(engine: sa.Engine, folder: Path) -> tuple[list[str], list[str]]:
    """Copy every entry file under `folder` into the database, as it is (no key needed:
    it stays encrypted). An entry already in the database is kept (a sign-in renewed
    there is newer than the file). Returns (copied, kept); safe to run again."""
    files, rows = FileEntries(folder), DatabaseEntries(engine)
    copied: list[str] = []
    kept: list[str] = []
    for name in files.names():
        data = files.read(name)
        if data is None:
            continue  # gone since it was listed
        (copied if rows.add(name, data) else kept).append(name)
    return copied, kept
