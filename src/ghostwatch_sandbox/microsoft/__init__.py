"""A Microsoft Graph v1.0 emulator (mail, calendar, Teams attendance); see `app.py`."""

from ghostwatch_sandbox.microsoft.app import GraphSandbox

__all__ = ["GraphSandbox"]
