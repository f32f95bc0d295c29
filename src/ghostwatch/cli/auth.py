"""`ghostwatch auth …`: make a key, sign accounts in, check what the vault holds.

Every command but `key` works where the service does: the configuration (`--config`, env
GHOSTWATCH_CONFIG) names the `data_dir` whose `tokens/` hold the vault, and its key, so
`auth check` reads the same vault `ghostwatch accounts` and `ghostwatch run` read;
`--data-dir` (env GHOSTWATCH_DATA_DIR) overrides it. With no configuration file at the
default path, the service's defaults apply (data_dir `data`).

This module is an entry point: it alone reads the key's environment variables and
hands the resolved key to the vault (see vault/keys.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ghostwatch import config
from ghostwatch.cli.errors import user_errors
from ghostwatch.cli.place import Place, place_options
from ghostwatch.errors import UserError
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.imap import signin as imap
from ghostwatch.providers.imap.session import ImapLogin
from ghostwatch.providers.microsoft import signin as microsoft
from ghostwatch.service.forget import forget_account
from ghostwatch.service.wiring import check_identity, gmail_address
from ghostwatch.vault.keys import KEY_ENV, KEY_FILE_ENV, new_key, resolve_key
from ghostwatch.vault.tokens import TokenVault, vault_in

MSAL_HTTP_CLIENT = "msal_http_client"


def open_vault(place: Place) -> TokenVault:
    """The vault `ghostwatch run` reads, with the configuration's key (the environment
    or its file, as `run` reads it): under DATA_DIR/tokens, or in the PostgreSQL database
    with `vault: database` (replicas share no volume)."""
    settings = place.settings
    if settings is not None and settings.secret_key is not None:
        key = resolve_key(settings.secret_key.get_secret_value(), None)
    else:
        key_file = os.environ.get(KEY_FILE_ENV)
        key = resolve_key(os.environ.get(KEY_ENV), Path(key_file) if key_file else None)
    if settings is not None and settings.vault == "database":
        from ghostwatch.store import Store  # SQLAlchemy loads slowly: only for a database
        from ghostwatch.store.vault_rows import database_vault

        store = Store.open(settings.database())
        store.upgrade()
        return database_vault(store.engine, place.data_dir, key)  # lives with the command
    return vault_in(place.data_dir, key)


@click.group()
def auth() -> None:
    """Sign accounts in; their tokens are kept encrypted under the data directory."""


@auth.command()
def key() -> None:
    """Print a new random encryption key for GHOSTWATCH_SECRET_KEY."""
    click.echo(new_key())
    click.echo(
        f"Keep it secret and keep it safe: put it in {KEY_ENV} or in a file named by "
        f"{KEY_FILE_ENV}. Tokens encrypted with it cannot be read without it.",
        err=True,
    )


account_option = click.option(
    "--account", required=True, help="The account's name, as in the configuration."
)


def configured(place: Place, account: str) -> config.AccountConfig | None:
    """The account as the configuration names it, if there is one and it does: then the
    mailbox signed in must be its `address`."""
    if place.settings is None:
        return None
    return next((a for a in place.settings.accounts if a.name == account), None)


@auth.command(name="google")
@account_option
@click.option(
    "--client-secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="GHOSTWATCH_GOOGLE_CLIENT_SECRETS",
    help="The OAuth client JSON (Desktop app) from Google Cloud console.",
)
@click.option("--headless", is_flag=True, help="Print the address; paste back where it led.")
@click.option("--browser", default=None, help="A browser to open (default: the system's).")
@click.option("--junk-rescue", is_flag=True, help="Also ask for gmail.modify (junk rescue).")
@click.option(
    "--service-account",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Workspace: a service account key with domain-wide delegation, instead of a sign-in.",
)
@click.option("--subject", help="With --service-account: the mailbox address to act as.")
@place_options
def google_command(
    account: str,
    client_secrets: Path | None,
    headless: bool,
    browser: str | None,
    junk_rescue: bool,
    service_account: Path | None,
    subject: str | None,
    place: Place,
) -> None:
    """Sign a Gmail / Google Workspace account in (or import a delegated service account)."""
    scopes = google.google_scopes(junk_rescue=junk_rescue)
    with user_errors():
        vault = open_vault(place)
        # Before a browser opens: a sign-in that could not be stored is wasted.
        vault.check_name(google.entry_name(account))
        settled = configured(place, account)
        if service_account is not None:
            if settled is not None and subject:
                check_identity(settled, subject)
            _import_delegation(vault, account, service_account, subject, scopes)
            return
        if client_secrets is None:
            raise UserError(
                "give --client-secrets FILE: the OAuth client JSON (Desktop app) from "
                "Google Cloud console, or --service-account KEY --subject ADDRESS"
            )
        prompt = google.LoginPrompt(
            show=click.echo, ask=click.prompt, headless=headless, browser=browser
        )
        credentials = google.installed_app_login(client_secrets, scopes, prompt)
        if settled is not None:
            # Kept only if it is the configured mailbox: a person signed in to two Google
            # accounts picks the wrong one in the browser easily.
            check_identity(settled, gmail_address(settled, credentials))
        google.store_user_login(vault, account, credentials)
    click.echo(f"signed in: account {account} (Google), tokens encrypted in {vault.directory}")


def _import_delegation(
    vault: TokenVault, account: str, key_file: Path, subject: str | None, scopes: list[str]
) -> None:
    if not subject:
        raise UserError("--service-account needs --subject ADDRESS: the mailbox to act as")
    google.import_service_account(vault, account, key_file, subject, scopes)
    google.check_google(vault, account)  # the admin learns now if delegation is missing
    click.echo(f"service account ready: account {account} acts as {subject} (Google)")


@auth.command()
@account_option
@place_options
@click.pass_context
def check(ctx: click.Context, account: str, place: Place) -> None:
    """Prove an account's stored sign-in still works (gets a fresh token once)."""
    with user_errors():
        vault = open_vault(place)
        found = describe(vault, account, _msal_http_client(ctx), _sign_in_hint(place, account))
    click.echo(f"{account}: {found}: ok")


_COMMANDS = {"gmail": "google", "outlook": "microsoft", "imap": "imap"}


def _sign_in_hint(place: Place, account: str) -> str | None:
    """What to do when nothing is stored for `account`, as its configuration says: the one
    command for its provider, or that the configuration has no such account (a typo: no
    sign-in command would help). None without a configuration."""
    if place.settings is None:
        return None
    names = [a.name for a in place.settings.accounts]
    for entry in place.settings.accounts:
        if entry.name == account:
            if entry.provider == "maildir":
                return "a Maildir account needs no sign-in"
            return f"run `ghostwatch auth {_COMMANDS[entry.provider]} --account {account}`"
    return (
        f"{place.config_path} has no account {account!r} (accounts: {', '.join(names)}): "
        "check the name, or add the account there first"
    )


@auth.command()
@account_option
@click.option(
    "--local-only",
    is_flag=True,
    help="Delete the stored tokens even when Google cannot be reached to revoke them.",
)
@place_options
def forget(account: str, local_only: bool, place: Place) -> None:
    """Revoke an account's Google grant, then delete its stored tokens.

    Microsoft offers no revocation to ghostwatch: its tokens are deleted and the
    output says where to withdraw the app's consent.
    """
    with user_errors():
        vault = open_vault(place)
        said = forget_account(vault, account, local_only=local_only)
    for line in said:
        click.echo(f"{account}: {line}")


def describe(
    vault: TokenVault, account: str, http_client: Any = None, hint: str | None = None
) -> str:
    """Which sign-in the vault holds for `account`, after proving it works; `hint` says
    what to do when it holds none (every command, without one)."""
    if vault.get(google.entry_name(account)) is not None:
        return google.check_google(vault, account)
    if vault.get(microsoft.entry_name(account)) is not None:
        return microsoft.check_microsoft(vault, account, http_client=http_client)
    if vault.get(imap.entry_name(account)) is not None:
        return imap.check_imap(vault, account)
    if hint is not None:
        raise UserError(f"no sign-in stored for account {account!r} in {vault.directory}: {hint}")
    raise UserError(
        f"no sign-in stored for account {account!r} in {vault.directory}: run "
        f"`ghostwatch auth google --account {account}`, `ghostwatch auth microsoft ...` "
        "or `ghostwatch auth imap ...`"
    )


@auth.command(name="imap")
@account_option
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the password from this file instead of asking for it.",
)
@place_options
def imap_command(account: str, password_file: Path | None, place: Place) -> None:
    """Store an IMAP account's password (an app password where the provider has them),
    after signing in with it once to IMAP and, if configured, to CalDAV."""
    with user_errors():
        options, username = _imap_account(place, account)
        vault = open_vault(place)
        vault.check_name(imap.entry_name(account))
        if password_file is not None:
            password = _read_secret(password_file, "password file", "the app password")
        else:
            password = click.prompt(f"Password for {username} at {options.host}", hide_input=True)
        ca_file = str(options.ca_file) if options.ca_file is not None else None
        login = ImapLogin(options.host, username, password, port=options.server_port(),
                          tls=options.tls, ca_file=ca_file)  # fmt: skip
        caldav = None
        if options.caldav_url:
            caldav = imap.CalDav(options.caldav_url, options.caldav_username or username,
                                 options.calendar)  # fmt: skip
        proved = imap.prove(login, caldav)
        imap.store_password(vault, account, login)
    click.echo(f"signed in: account {account} ({proved}), password stored encrypted")


def _imap_account(place: Place, account: str) -> tuple[config.ImapOptions, str]:
    if place.settings is None:  # the server is named only there
        config.read_yaml(place.config_path)  # raises: no configuration, run init
    accounts = place.settings.accounts if place.settings is not None else []
    found = [a for a in accounts if a.name == account]
    if not found or found[0].imap is None:
        raise UserError(
            f"{place.config_path} has no IMAP account named {account!r}: add it with "
            "`provider: imap` "
            "and an `imap:` section naming its host (README, IMAP and CalDAV)"
        )
    return found[0].imap, found[0].imap.username or found[0].address


@auth.command(name="microsoft")
@account_option
@click.option(
    "--client-id",
    required=True,
    envvar="GHOSTWATCH_MICROSOFT_CLIENT_ID",
    help="The Entra app registration's Application (client) ID.",
)
@click.option(
    "--tenant",
    default="organizations",
    show_default=True,
    help="Tenant id or domain (required with --client-secret-file).",
)
@click.option("--attendance", is_flag=True, help="Also ask for OnlineMeetingArtifact.Read.All.")
@click.option(
    "--client-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tenant-wide: a file holding the app's client secret (application permissions).",
)
@click.option("--timeout", default=900, show_default=True, help="Seconds to wait for sign-in.")
@place_options
@click.pass_context
def microsoft_command(
    ctx: click.Context,
    account: str,
    client_id: str,
    tenant: str,
    attendance: bool,
    client_secret_file: Path | None,
    timeout: int,
    place: Place,
) -> None:
    """Sign an Outlook / Microsoft 365 account in (device code), or a whole tenant's app."""
    app = microsoft.EntraApp(client_id, tenant)
    http_client = _msal_http_client(ctx)
    with user_errors():
        vault = open_vault(place)
        vault.check_name(microsoft.entry_name(account))  # before the device code is shown
        if client_secret_file is not None:
            secret = _read_secret(client_secret_file, "client secret file", "the secret's Value")
            microsoft.client_credentials_login(vault, account, app, secret, http_client=http_client)
            click.echo(f"application ready: account {account} (Microsoft, tenant {tenant})")
            return
        scopes = microsoft.graph_scopes(attendance=attendance)
        user = microsoft.device_code_login(
            vault, account, app, scopes, click.echo, http_client=http_client, timeout=timeout
        )
        settled = configured(place, account)
        if settled is not None and user.lower() != settled.address.lower():
            vault.delete(microsoft.entry_name(account))  # never kept for the wrong mailbox
            check_identity(settled, user)
    click.echo(f"signed in: account {account} as {user} (Microsoft), tokens stored encrypted")


def _msal_http_client(ctx: click.Context) -> Any:
    """Tests pass the identity fake's routed session as `obj`; production uses msal's own."""
    return ctx.obj.get(MSAL_HTTP_CLIENT) if isinstance(ctx.obj, dict) else None


def _read_secret(path: Path, what: str, paste: str) -> str:
    """A one-line secret from a file; the error names the file as the person knows it
    (an IMAP `--password-file` is no client secret) and what to do."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise UserError(f"no {what} at {path}: write {paste} into it, or give its path") from None
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or "not text"
        raise UserError(
            f"cannot read the {what} {path} ({why}): check its path and permissions"
        ) from None
    if not secret:
        raise UserError(f"the {what} {path} is empty: paste {paste} into it")
    return secret
