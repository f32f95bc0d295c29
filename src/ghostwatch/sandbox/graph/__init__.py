"""A Microsoft Graph v1.0 emulator (mail, calendar, Teams attendance); see `app.py`."""

from ghostwatch.sandbox.graph.app import GraphSandbox

__all__ = ["GraphSandbox"]
