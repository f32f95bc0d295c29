"""Google API clients from the discovery documents bundled with google-api-python-client.

`static_discovery=True` never fetches a document over the network; `api_endpoint`
points a client at Google or at the local sandbox (API-NOTES.md: Gmail and Meet take the
bare root, Calendar needs `URL/calendar/v3/`).
"""

from __future__ import annotations

from typing import Any

from googleapiclient.discovery import build


def google_service(name: str, version: str, api_endpoint: str, credentials: Any) -> Any:
    return build(
        name,
        version,
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": api_endpoint},
        cache_discovery=False,
    )
