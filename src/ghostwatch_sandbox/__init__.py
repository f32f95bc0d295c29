"""Local emulators of the provider APIs ghostwatch talks to, over real HTTP on 127.0.0.1.

- `google`: Gmail API v1, Calendar v3, Meet v2 and Google's OAuth endpoints.
- `microsoft`: Microsoft Graph v1.0 (mail, calendar, Teams attendance) and the Microsoft
  identity platform (Entra ID v2.0) that msal signs in against.
- `server`, `faults`, `quota`: the HTTP server both run on, injected faults, rate limits.
- `playground`: ghostwatch wired to the emulators: the providers over a sandbox, and the
  demo (`make demo`). It is the only part that imports ghostwatch beyond its values and
  formats; ghostwatch itself imports none of this package outside its `sandbox` command
  and `scan --through` (docs/architecture.md).
"""
