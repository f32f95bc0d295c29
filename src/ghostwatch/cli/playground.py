"""The playground commands, the only part of ghostwatch that imports the emulators (both
loaded only when used): `scan --through gmail|outlook` (`sandbox_source`), and
`ghostwatch sandbox`, a local Gmail the daemon can be pointed at with no Google account.

The sandbox (ghostwatch_sandbox/google/app.py) is seeded from a Maildir and served on
127.0.0.1:PORT in the foreground. So that `ghostwatch run` and `ghostwatch auth check` use
it like any mailbox, the command adds an account naming its endpoints to the configuration and
stores the sandbox's grant in the token vault exactly as `ghostwatch auth google`
stores a real one. Every check runs before anything is written or bound, so a mistake
leaves the configuration and the vault as they were.
"""

from __future__ import annotations

import contextlib
import errno
import re
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ghostwatch import config
from ghostwatch.cli.errors import user_errors
from ghostwatch.cli.interrupt import interrupted
from ghostwatch.cli.service import template
from ghostwatch.config.edit import with_account
from ghostwatch.errors import MissingKey, UserError
from ghostwatch.providers.google import signin as google
from ghostwatch.providers.port import MailSource
from ghostwatch.vault.keys import resolve_key
from ghostwatch.vault.tokens import TokenVault, vault_in
from ghostwatch_sandbox.google.app import DEFAULT_USER, GmailSandbox
from ghostwatch_sandbox.google.consent import CLIENT_ID
from ghostwatch_sandbox.google.watch import describe
from ghostwatch_sandbox.microsoft import GraphSandbox
from ghostwatch_sandbox.playground.sources import gmail_source, imap_source, outlook_source
from ghostwatch_sandbox.server import hosted

COMMENT = "added by `ghostwatch sandbox`: a local Gmail sandbox, not a real mailbox"
SANDBOX_CONFIG = Path("out/sandbox/ghostwatch.yaml")
"""Where the sandbox sets ghostwatch up unless told otherwise: a throwaway file, with its
data_dir beside it, in a folder git ignores, so following the README from a checkout
leaves every tracked file as it was (issue 16)."""
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ConfigPlan:
    """What the configuration file will hold: `text` to write, or None to leave it."""

    path: Path
    text: str | None
    settings: config.Settings
    note: str


# Every day of the week: someone trying the sandbox on a Saturday must see `ghostwatch
# run` poll, not "next poll Monday". Follow-ups still count business days.
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def sandbox_account(name: str, address: str, url: str) -> dict[str, Any]:
    """A Gmail account at the sandbox, polled at any hour of any day, rescuing junk."""
    return {
        "name": name,
        "provider": "gmail",
        "address": address,
        "working_hours": {"start": "00:00", "end": "23:59", "days": EVERY_DAY},
        "junk_rescue": True,
        "gmail": config.GmailOptions.sandbox(url).model_dump(),
    }


def plan_config(path: Path, account: str, address: str, url: str) -> ConfigPlan:
    """Add the account to the file at `path` (a new one if missing), or keep it as it is."""
    exists = path.exists()
    # A new file keeps its state beside it: nothing lands in the folder it is run from.
    data = config.read_yaml(path) if exists else {"data_dir": str(path.parent / "data")}
    text = path.read_text(encoding="utf-8") if exists else _new_file(data["data_dir"])
    found = _named(data, account)
    if found is not None:
        _check_points_here(found, path, url)
        note = f"account {account!r} is already in {path}: left as it is"
        return ConfigPlan(path, None, config.build(data, str(path)), note)
    entry = sandbox_account(account, address, url)
    new = with_account(text, entry, COMMENT)  # checks that `new` reads as `data` + `entry`
    # Validated from the file's data as config.load read it (clock times stay clock times).
    settings = config.build({**data, "accounts": [*(data.get("accounts") or []), entry]}, str(path))
    note = f"account {account!r} {'added to' if exists else 'written to a new'} {path}"
    return ConfigPlan(path, new, settings, note)


def _new_file(data_dir: str) -> str:
    """`ghostwatch init`'s commented file, without its placeholder account, its state
    in `data_dir`."""
    head = template().partition("\naccounts:")[0] + "\n"
    return re.sub(r"^data_dir: \S+", lambda _: f"data_dir: {data_dir}", head, flags=re.M)


def _named(data: dict[str, Any], account: str) -> dict[str, Any] | None:
    entries = data.get("accounts")
    found = [a for a in entries or [] if isinstance(a, dict) and a.get("name") == account]
    return found[0] if found else None


def _check_points_here(entry: dict[str, Any], path: Path, url: str) -> None:
    gmail = entry.get("gmail") if isinstance(entry.get("gmail"), dict) else {}
    endpoint = str((gmail or {}).get("api_endpoint", "")).rstrip("/")
    if entry.get("provider") != "gmail" or endpoint != url:
        where = endpoint or f"provider {entry.get('provider')}"
        raise UserError(
            f"account {entry['name']!r} in {path} is not this sandbox (it reads {where}): "
            "name another with --account, or give the port it names with --port"
        )


def settings_vault(settings: config.Settings) -> TokenVault:
    """The vault `ghostwatch run` reads with these settings (their data_dir and key)."""
    if settings.secret_key is None:
        raise MissingKey(
            "the sandbox's sign-in goes into the encrypted token vault and no key is set: "
            "make one with `ghostwatch auth key` and export GHOSTWATCH_SECRET_KEY=THE_KEY "
            "here and where `ghostwatch run` runs"
        )
    return vault_in(settings.data_dir, resolve_key(settings.secret_key.get_secret_value(), None))


def check_vault_entry(vault: TokenVault, account: str) -> None:
    """Refuse to replace a real sign-in: only an earlier sandbox's grant may be."""
    entry = vault.get_json(google.entry_name(account))
    if entry is None:
        return
    user = entry.get("authorized_user")
    if (
        entry.get("kind") != "installed"
        or not isinstance(user, dict)
        or (user.get("client_id") != CLIENT_ID)
    ):
        raise UserError(
            f"the vault in {vault.directory} holds a real Google sign-in for account "
            f"{account!r}: name the sandbox's account another way with --account"
        )


def start_afresh(settings: config.Settings, account: str) -> bool:
    """The sandbox's mail begins again from the Maildir, so ghostwatch's memory of the
    last one must go too: its history cursor would skip the new mailbox's changes, and
    its ledger would take the drafts it no longer holds as deleted by the user. True if
    there was something to forget."""
    from ghostwatch.service.app import open_store

    with open_store(settings) as store, store.transaction() as tx:
        return tx.forget_mailbox(account)


def _host(stack: ExitStack, fake: GmailSandbox, port: int) -> None:
    try:
        stack.enter_context(hosted(fake, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on 127.0.0.1 is in use (a sandbox still running?): stop it, "
                "or pass --port with a free one"
            ) from None
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None


def watch(fake: GmailSandbox, stop: threading.Event, say: Callable[[str], None]) -> None:
    """Say each write to the sandbox as it comes, until `stop` is set."""
    shown = 0
    while True:
        stopped = stop.wait(_POLL_SECONDS)
        # The server's threads only append; a slice is a consistent snapshot in CPython.
        fresh = fake.writes[shown:]
        for write in fresh:
            say(describe(fake, write))
        shown += len(fresh)
        if stopped:
            return


def _until_signalled(fake: GmailSandbox, say: Callable[[str], None]) -> list[int]:
    """Watch until SIGTERM or SIGINT; the signals received."""
    stop = threading.Event()
    received: list[int] = []

    def handle(number: int, _frame: object) -> None:
        received.append(number)
        stop.set()

    wanted = (signal.SIGTERM, signal.SIGINT)
    before = {number: signal.signal(number, handle) for number in wanted}
    try:
        watch(fake, stop, say)
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    return received


@click.command(name="sandbox")
@click.option(
    "--mailbox",
    default="examples/mailbox",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The Maildir the sandbox's mail is copied from (it is never written to).",
)
@click.option(
    "--port",
    default=8025,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The port to listen on (127.0.0.1 only).",
)
@click.option(
    "--config",
    "config_path",
    envvar="GHOSTWATCH_CONFIG",
    default=str(SANDBOX_CONFIG),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The configuration to add the account to (env GHOSTWATCH_CONFIG); written if "
    "missing, with its data_dir beside it. The default is a throwaway file under out/ "
    "(ignored by git): the repository's config/ghostwatch.yaml is never edited.",
)
@click.option("--account", default="sandbox", show_default=True, help="The account's name.")
@click.option(
    "--address", default=DEFAULT_USER, show_default=True, help="The mailbox owner's address."
)
def sandbox(mailbox: Path, port: int, config_path: Path, account: str, address: str) -> None:
    """Serve a local Gmail seeded from a Maildir and set ghostwatch up to watch it.

    Adds an account for it to the configuration (once; other accounts are left alone) and
    stores its sign-in in the token vault (GHOSTWATCH_SECRET_KEY), so `ghostwatch run` in
    another terminal works with no Google account. Each write ghostwatch makes is printed
    here, one line each. The mail lives in memory: every start begins afresh from the
    Maildir. Ctrl-C or SIGTERM stops it.

    Gmail only: Microsoft's sign-in library refuses a sign-in server on plain http, so no
    Outlook sandbox can stand in for a real tenant here.
    """
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack, user_errors():
        fake = GmailSandbox(address)
        count = fake.seed(mailbox)
        plan = plan_config(config_path, account, address, url)
        vault = settings_vault(plan.settings)
        check_vault_entry(vault, account)
        _host(stack, fake, port)
        if plan.text is not None:
            _write(plan.path, plan.text)
        google.store_user_login(
            vault, account, fake.sign_in(google.google_scopes(junk_rescue=True))
        )
        forgot = start_afresh(plan.settings, account)
        _announce(fake, mailbox, count, plan, vault, account, forgot)
        received = _until_signalled(fake, click.echo)
    if signal.SIGINT in received:  # Ctrl-C: 130, as for every command (cli/interrupt.py)
        raise interrupted()
    click.echo("sandbox stopped")


def _announce(
    fake: GmailSandbox,
    mailbox: Path,
    count: int,
    plan: ConfigPlan,
    vault: TokenVault,
    account: str,
    forgot: bool,
) -> None:
    click.echo(f"Gmail sandbox for {fake.user} on {fake.url}: {count} messages from {mailbox}")
    click.echo("  its mail is in memory: each start begins again from the Maildir")
    click.echo(f"  {plan.note}")
    click.echo(f"  sign-in for account {account!r} stored in {vault.directory}")
    if forgot:
        click.echo(f"  ghostwatch's memory of the last sandbox for {account!r} was reset")
        click.echo("  (restart any `ghostwatch run` still going, so that it forgets it too)")
    click.echo(
        f"In another terminal: export GHOSTWATCH_CONFIG={plan.path} (and the same "
        "GHOSTWATCH_SECRET_KEY), then ghostwatch run --once"
    )
    click.echo("Ctrl-C stops the sandbox. ghostwatch's writes to the mailbox show here:")


def sandbox_source(
    stack: contextlib.ExitStack[bool | None],
    maildir: Path,
    through: str,
    address: str,
    since: datetime | None = None,
) -> MailSource:
    """`scan --through gmail|outlook|imap`: `maildir`'s mail served by a sandbox (or, for
    imap, a real Dovecot and Radicale) that lives as long as `stack`, read back through
    the real provider."""
    if through == "imap":
        return imap_source(stack, maildir)
    if through == "outlook":
        graph = stack.enter_context(GraphSandbox.serve(seed=maildir, user=address))
        return outlook_source(graph, since=since)
    sandbox = stack.enter_context(GmailSandbox.serve(seed=maildir, user=address))
    return gmail_source(sandbox, since=since)
