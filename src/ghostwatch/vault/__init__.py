"""Credentials at rest: the encrypted token vault and the key that opens it.

- `keys`: the Fernet key, resolved at the entry point from GHOSTWATCH_SECRET_KEY or the
  file GHOSTWATCH_SECRET_KEY_FILE names.
- `tokens`: `TokenVault`, one encrypted file per sign-in, written atomically.

Signing in is each provider's own (`providers/google/signin.py`,
`providers/microsoft/signin.py`); the service turns vault entries into credentials
(`service/signins.py`) and forgets them (`service/forget.py`).
"""
