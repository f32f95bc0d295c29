"""Files only their owner may read: the secrets ghostwatch reads and the files it writes.

Reading: a key or password file owned by the user reading it must not be open to its
group or others. This is ssh's rule for a private key (OpenSSH `sshkey_perm_ok`,
authfile.c: "Permissions 0644 for '…' are too open"), and, like ssh, only for a file
the reader owns: a secret mounted by root or by another user (a Kubernetes Secret, a
Docker bind mount read by the image's user) is its owner's to protect.

Writing: the database, the token vault and mail ghostwatch writes hold other people's
addresses and tokens. They are made 0600 in folders made 0700 whatever the process's
umask (a container's is often 0022), by asking for those modes at creation and setting
them again after, since mkdir(2) and open(2) apply the umask to the mode asked for.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def too_open(path: Path) -> str | None:
    """One line saying `path` is open to others and how to close it, or None if it is
    fine, missing, or someone else's."""
    try:
        found = path.stat()
    except OSError:
        return None  # a missing or unreadable file is reported by whoever reads it
    if found.st_uid != os.geteuid() or not found.st_mode & 0o077:
        return None
    mode = stat.S_IMODE(found.st_mode)
    return (
        f"{path}: permissions {mode:04o} are too open for a secret (its group or others "
        f"may read it): run chmod 600 {path}"
    )


def make_folder(path: Path) -> None:
    """`path` and its missing parents, the ones made here 0700; an existing one as it is
    (the operator chose its mode, e.g. a volume mounted for several services)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, FOLDER_MODE)


def keep_private(path: Path) -> None:
    """Make a file ghostwatch created readable by its owner only."""
    os.chmod(path, FILE_MODE)
