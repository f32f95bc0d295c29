"""A real Dovecot IMAP server on 127.0.0.1, with a throwaway configuration and mailbox.

Not an emulator: Debian's `dovecot-imapd` (2.3) itself, run in the foreground
(`dovecot -F -c CONF`) with everything — configuration, state, log, users file and the
user's Maildir++ tree — inside one temporary folder. The tests, the IMAP benchmark and
`scan --through imap` start one, load a Maildir into it and read it back through the IMAP
provider. Dovecot reads a Maildir++ tree as it is (its default layout: INBOX at the root,
`.Name` folders), so loading is a copy, or hard links for big benchmark trees (Dovecot
never rewrites a message file: a flag change renames its link, an expunge unlinks it).

The folders of the seed that have a role by name (docs/scan-contract.md) are given the
RFC 6154 special-use flag of that role; missing Sent, Drafts, Junk and Trash folders are
created empty, as a real server has them.

Facts this relies on (Dovecot 2.3.19): mail may not be accessed as uid 0, so as root the
mail runs as Debian's `mail` user (8:8) and the folder must be traversable (0755); the
master started with `-F` leaves its `imap` children serving after SIGTERM, so the whole
process group is stopped; the passwd-file is re-read only when its mtime (in whole
seconds) changes; a message's INTERNALDATE is its file's mtime.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket

# Starts the local Dovecot binary with a fixed argument list (B404).
import subprocess  # nosec B404
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ghostwatch.mail.maildir import MaildirTree
from ghostwatch.model.mail import Folder

INSTALL_HINT = "install Dovecot with `apt-get install dovecot-imapd` (Debian, Ubuntu)"
SPECIAL_USE = {
    Folder.SENT: "\\Sent",
    Folder.DRAFTS: "\\Drafts",
    Folder.JUNK: "\\Junk",
    Folder.TRASH: "\\Trash",
}
DEFAULT_NAMES = {
    Folder.SENT: "Sent",
    Folder.DRAFTS: "Drafts",
    Folder.JUNK: "Junk",
    Folder.TRASH: "Trash",
}
_TIMESTAMP = re.compile(r"^(\d{9,11})\.")

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{tls}
auth_mechanisms = plain login
{privileges}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 100
mail_plugins = $mail_plugins quota
{capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}
plugin {{
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:storage=0
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


def dovecot_binary() -> str | None:
    """The `dovecot` program, if this machine has it."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Dovecot:
    """One user's mailbox served by a Dovecot of its own (see the module's docstring)."""

    user: str = "alex"
    password: str = "secret-app-password"
    capability: str | None = None
    """Replaces the capabilities announced after login (a server without CONDSTORE...)."""
    tls: bool = False
    """Also serve IMAPS, and STARTTLS on the plain port, with a self-signed certificate."""
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ghostwatch-imap-")))
    port: int = field(default_factory=free_port)
    tls_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    seed: Path | None = None
    """The Maildir the mailbox was loaded from."""
    _users_mtime: int = 0
    _quota: str | None = None

    def __post_init__(self) -> None:
        # The mail and login users must traverse it (B103: a folder of test mail).
        os.chmod(self.root, 0o755)  # nosec B103
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir(exist_ok=True)
        self.uid, self.gid = _mail_ids()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / self.user / "Maildir"

    @property
    def certificate(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @classmethod
    @contextlib.contextmanager
    def serve(
        cls, seed: Path | None = None, *, link: bool = False, **options: object
    ) -> Iterator[Dovecot]:
        """A started server holding a copy of the Maildir `seed`; removed afterwards."""
        server = cls(**options)  # type: ignore[arg-type]
        try:
            server.load(seed, link=link)
            server.start()
            yield server
        finally:
            server.close()

    # --- the mailbox ----------------------------------------------------------------------

    def load(self, seed: Path | None, *, link: bool = False) -> None:
        """Copy (or hard-link) the Maildir `seed` in and write the configuration."""
        self.seed = seed
        if seed is not None:
            _import_tree(seed, self.maildir, link)
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        self._own(self.root / "mail")
        self._write_users()
        self._write_config()

    def _mailboxes(self) -> str:
        names = dict(DEFAULT_NAMES.items())
        auto = dict.fromkeys(names, "create")
        for folder in MaildirTree(self.maildir).folders:
            if folder.role in SPECIAL_USE and auto.get(folder.role) == "create":
                names[folder.role] = folder.name.replace(".", "/")
                auto[folder.role] = "no"
        blocks = [
            f'  mailbox "{names[role]}" {{\n    special_use = {flag}\n    auto = {auto[role]}\n  }}'
            for role, flag in SPECIAL_USE.items()
        ]
        return "\n".join(blocks)

    def _write_config(self) -> None:
        tls = "ssl = no\ndisable_plaintext_auth = no"
        if self.tls:
            self.tls_port = self.tls_port or free_port()
            key = self.certificate.with_name("key.pem")
            _self_signed(self.certificate, key)
            tls = f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{key}\n"
            tls += "disable_plaintext_auth = no"
        capability = f"imap_capability = {self.capability}" if self.capability else ""
        text = CONFIG.format(
            root=self.root,
            tls=tls,
            privileges=self._privileges(),
            capability=capability,
            mailboxes=self._mailboxes(),
            port=self.port,
            tls_port=self.tls_port,
        )
        (self.root / "dovecot.conf").write_text(text)

    def _privileges(self) -> str:
        if os.geteuid() == 0:
            return (
                f"first_valid_uid = {self.uid}\nlast_valid_uid = 0\nfirst_valid_gid = {self.gid}\n"
                f"mail_uid = {self.uid}\nmail_gid = {self.gid}\n"
                "default_internal_user = dovecot\ndefault_login_user = dovenull"
            )
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return (
            f"first_valid_uid = {self.uid}\ndefault_internal_user = {me}\n"
            f"default_internal_group = {group}\ndefault_login_user = {me}\n"
            "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}"
        )

    def _write_users(self) -> None:
        extra = f"userdb_quota_rule=*:storage={self._quota}" if self._quota else ""
        home = self.root / "mail" / self.user
        line = f"{self.user}:{{PLAIN}}{self.password}::::{home}::{extra}\n"
        staged = self.root / "users.tmp"
        staged.write_text(line)
        os.chmod(staged, 0o644)
        # Dovecot re-reads the file only when its mtime, in whole seconds, changes.
        mtime = max(int(time.time()), self._users_mtime + 1)
        os.utime(staged, (mtime, mtime))
        self._users_mtime = mtime
        os.replace(staged, self.root / "users")

    def _own(self, path: Path) -> None:
        """As root, the mail user must own the folders (linked files stay as they are)."""
        if os.geteuid() != 0:
            return
        for folder, _dirs, files in os.walk(path):
            os.chown(folder, self.uid, self.gid)
            for name in files:
                file = os.path.join(folder, name)
                if os.stat(file).st_nlink == 1:
                    os.lchown(file, self.uid, self.gid)

    # --- running --------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise FileNotFoundError(f"no dovecot on this machine: {INSTALL_HINT}")
        command = [binary, "-F", "-c", str(self.root / "dovecot.conf")]
        # Fixed arguments, no shell (B603).
        self.process = subprocess.Popen(  # nosec B603
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self._greets():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(graceful=False)
                raise RuntimeError(f"dovecot did not start:\n{self.log()[-2000:]}")
            time.sleep(0.02)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as probe:
                return probe.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self, graceful: bool = True) -> None:
        """Stop the master and every process of its group (sessions end with it)."""
        if self.process is None:
            return
        group = self.process.pid
        if graceful and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        _wait_for_group(group)
        self.process = None

    def restart(self, graceful: bool = True) -> None:
        """Every connection drops; the mail, the port and the configuration stay."""
        self.stop(graceful)
        self.start()

    def close(self) -> None:
        self.stop(graceful=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- faults and changes behind the client's back ------------------------------------

    def doveadm(self, *args: str) -> str:
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        command = [doveadm, "-c", str(self.root / "dovecot.conf"), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # nosec B603
        return done.stdout

    def kick(self) -> None:
        """Drop the user's connections, the server staying up."""
        self.doveadm("kick", self.user)

    def set_quota(self, storage: str | None) -> None:
        """A storage limit ('1K', '10M') for sessions that log in from now on; None lifts it."""
        self._quota = storage
        self._write_users()
        time.sleep(1.02 - time.time() % 1)  # the next login must see the new mtime

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        """Rebuild `folder` as a server restored from backup would: a new UIDVALIDITY and
        every UID renumbered (the server is restarted)."""
        path = self.folder_path(folder)
        running = self.process is not None
        self.stop(graceful=False)
        for stale in [*path.glob("dovecot-uidlist"), *path.glob("dovecot.index*")]:
            stale.unlink()
        time.sleep(1.05)  # the new UIDVALIDITY is the time in seconds: make it differ
        if running:
            self.start()

    def folder_path(self, folder: str) -> Path:
        return (
            self.maildir
            if folder.upper() == "INBOX"
            else self.maildir / f".{folder.replace('/', '.')}"
        )

    def deliver(self, raw: bytes, folder: str = "INBOX") -> Path:
        """A message delivered into `folder` as a delivery agent does (tmp/, then new/)."""
        base = self.folder_path(folder)
        name = f"{int(time.time())}.M{time.perf_counter_ns() % 10**9}P{os.getpid()}.test"
        staged = base / "tmp" / name
        staged.write_bytes(raw)
        target = base / "new" / name
        os.replace(staged, target)
        self._own(target.parent)
        return target


def _mail_ids() -> tuple[int, int]:
    if os.geteuid() == 0:
        return pwd.getpwnam("mail").pw_uid, grp.getgrnam("mail").gr_gid
    return os.geteuid(), os.getegid()


def _import_tree(seed: Path, target: Path, link: bool) -> None:
    """Message files are copied (or linked) with their delivery time as mtime, so that
    Dovecot's INTERNALDATE is what the Maildir reader falls back to; other files copied."""
    for folder, _dirs, files in os.walk(seed):
        here = target / Path(folder).relative_to(seed)
        here.mkdir(parents=True, exist_ok=True)
        messages = Path(folder).name in ("cur", "new")
        for name in files:
            source, copy = Path(folder) / name, here / name
            if messages and link:
                with contextlib.suppress(OSError):
                    os.link(source, copy)
                    continue
            shutil.copy2(source, copy)
            stamp = _TIMESTAMP.match(name) if messages else None
            if stamp:
                os.utime(copy, (int(stamp[1]), int(stamp[1])))


def _wait_for_group(group: int, timeout: float = 10.0) -> None:
    """Until no live process is left in the group (zombies do not count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _members(group):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        time.sleep(0.02)


def _members(group: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(entry))
    return found


def _self_signed(cert: Path, key: Path) -> None:
    """A certificate for 127.0.0.1 and localhost, valid for a day (cryptography)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    alt = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    built = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(alt, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )  # fmt: skip
    cert.parent.mkdir(parents=True, exist_ok=True)
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
