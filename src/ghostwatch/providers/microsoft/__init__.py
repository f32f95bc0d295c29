"""Microsoft 365 through Graph: the HTTP client (`graph`), mail folders (`folders`), delta
sync (`sync`), the mail source (`outlook`), writes (`actions`), calendar and Teams
attendance (`calendar`), and sign-in with msal (`signin`)."""
