"""The key that encrypts tokens at rest.

Fernet (https://cryptography.io/en/latest/fernet/): AES-128-CBC with an HMAC-SHA256
over the whole token, so a file encrypted with another key or altered on disk is
refused rather than misread. Several keys may be given, separated by commas: the first
encrypts, any of them decrypts (MultiFernet), which is how a key is rotated.

The key is resolved once, at the entry point (the CLI, the daemon's settings), from
the environment variable's value or a mounted secret file, and passed in from there.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ghostwatch.errors import KEY_HOWTO, BadKey, MissingKey, WrongKey
from ghostwatch.private import too_open

KEY_ENV = "GHOSTWATCH_SECRET_KEY"
KEY_FILE_ENV = "GHOSTWATCH_SECRET_KEY_FILE"


def new_key() -> str:
    """A fresh random key (32 bytes from os.urandom, urlsafe base64)."""
    return Fernet.generate_key().decode("ascii")


class SecretKey:
    """One or more Fernet keys; never printed (repr hides them)."""

    def __init__(self, fernet: MultiFernet) -> None:
        self._fernet = fernet

    @classmethod
    def parse(cls, text: str, origin: str) -> SecretKey:
        parts = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
        if not parts:
            raise MissingKey(f"{origin} is empty: {KEY_HOWTO}")
        try:
            return cls(MultiFernet([Fernet(part) for part in parts]))
        except ValueError:
            raise BadKey(
                f"{origin} is not a ghostwatch key (32 random bytes, urlsafe base64): {KEY_HOWTO}"
            ) from None

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, data: bytes, where: str) -> bytes:
        try:
            return self._fernet.decrypt(data)
        except InvalidToken:
            raise WrongKey(
                f"cannot decrypt {where} with the key given: set the key it was written "
                "with (GHOSTWATCH_SECRET_KEY), or delete the file and sign in again"
            ) from None

    def __repr__(self) -> str:
        return "SecretKey(<hidden>)"


def resolve_key(value: str | None, file: Path | None) -> SecretKey:
    """The key from the environment value or the mounted file (exactly one of them)."""
    if value and file:
        raise BadKey(f"both {KEY_ENV} and {KEY_FILE_ENV} are set: keep only one")
    if file is not None:
        return SecretKey.parse(read_key_file(file), f"the key file {file}")
    if value:
        return SecretKey.parse(value, KEY_ENV)
    raise MissingKey(f"tokens are stored encrypted and no key is set: {KEY_HOWTO}")


def read_key_file(file: Path) -> str:
    """The file's text; refused, as ssh refuses a private key, when its owner is the
    reader and its group or others may read it too (ghostwatch.private)."""
    problem = too_open(file)
    if problem is not None:
        raise BadKey(f"the key file {problem} ({KEY_FILE_ENV})")
    try:
        return file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise BadKey(f"cannot read the key file {file} ({KEY_FILE_ENV}): {reason}") from None
