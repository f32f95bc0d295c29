"""Local emulators of provider REST APIs (docs/architecture.md), for tests and `make demo`.

`GmailSandbox` emulates Gmail API v1 over real HTTP on 127.0.0.1; see `app.py`.
"""

from ghostwatch_sandbox.google.app import GmailSandbox, Write

__all__ = ["GmailSandbox", "Write"]
