"""Credentials: the encrypted token vault, Google and Microsoft sign-in.

- `keys` / `vault`: tokens at rest, encrypted with a key the entry point resolves.
- `google`: installed-app OAuth for a person, a service account with domain-wide
  delegation for a Workspace admin; `google_credentials(vault, account)`.
- `microsoft`: msal device code for a person, client credentials for a tenant;
  `graph_token(vault, account)` gives the Outlook provider a bearer-token callable.
- `forget`: `ghostwatch auth forget`: revoke the grant where the provider allows it, then
  delete the vault entry.
"""
