"""Who is who: me, my colleagues, contacts, robots and organizations (docs/rules.md)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ghostwatch.model.mail import is_public_domain

# Local parts (or their leading word) of addresses no person reads.
_BOT_LOCAL = re.compile(
    r"""^(?:
        no[-_.]?reply | do[-_.]?not[-_.]?reply | dont[-_.]?reply
      | mailer[-_.]?daemon | postmaster | bounces? | notifications? | notify
      | auto[-_.]?(?:reply|responder|mailer|confirm) | daemon | robot
      | calendar[-_.]?notification | alerts?
    )(?:$|[-_.+0-9])""",
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=1 << 16)
def is_bot(email: str) -> bool:
    """A no-reply or role-robot address: writing to it reaches no person."""
    local = email.rpartition("@")[0]
    return bool(_BOT_LOCAL.match(local)) or "noreply" in local or "no-reply" in local


# The senders of delivery reports (RFC 3464 §2, RFC 5321 §4.5.5: MAILER-DAEMON, postmaster
# and the MTAs' own spellings), by the local part's leading word, or a prefix the
# mail systems extend (mail-delivery-subsystem, bounce-1234, bounces+verp=…); or by the
# display name alone, since some MTAs write from an ordinary-looking address.
_DAEMON_LOCAL = re.compile(
    r"^(?:(?:mailer|mail)[-_.]?daemon|mdaemon|post_?master|poostmaster)\b"
    r"|^(?:mail[-_.]?delivery|bounce)",
    re.IGNORECASE,
)
_DAEMON_NAME = re.compile(r"mail delivery (?:sub)?system|mailer[- ]daemon|postmaster", re.I)


@functools.lru_cache(maxsize=1 << 16)
def is_mail_daemon(email: str, name: str = "") -> bool:
    """A sender that writes delivery reports: the one test both the classifier and the
    header-only bounce pre-filter use, so a message one calls a bounce the other reads."""
    return bool(_DAEMON_LOCAL.match(email.rpartition("@")[0]) or _DAEMON_NAME.search(name))


# Mailing-list software (Mailman, fml, Majordomo, ezmlm) writes as, and points people to,
# the list's own control addresses: owner-LIST, LIST-request, LIST-admin, LIST-ctl, ...
_LIST_ROBOT = re.compile(r"^(?:owner-[^@]+|[^@]+-(?:admin|owner|request|bounces?|ctl))@", re.I)


@functools.lru_cache(maxsize=1 << 16)
def is_list_robot(email: str) -> bool:
    """A mailing list's control address: list software, not a member."""
    return bool(_LIST_ROBOT.match(email))


@dataclass(frozen=True, slots=True)
class Identity:
    """The user: all their addresses, and the internal domains those imply."""

    addresses: frozenset[str]
    internal_domains: frozenset[str]
    _contact: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    _internal: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    """Memos: a mailbox has a few thousand people and a million mentions of them."""

    @classmethod
    def of(cls, addresses: Iterable[str]) -> Identity:
        mine = frozenset(a.strip().lower() for a in addresses if a.strip())
        domains = frozenset(
            a.rpartition("@")[2] for a in mine if not is_public_domain(a.rpartition("@")[2])
        )
        return cls(mine, domains)

    def is_me(self, email: str) -> bool:
        return email in self.addresses

    def is_internal(self, email: str) -> bool:
        """Me, or a colleague: same non-public domain (subdomains included)."""
        verdict = self._internal.get(email)
        if verdict is None:
            domain = email.rpartition("@")[2]
            verdict = self._internal[email] = email in self.addresses or any(
                domain == d or domain.endswith("." + d) for d in self.internal_domains
            )
        return verdict

    def is_contact(self, email: str) -> bool:
        """An external person: not me, not a colleague, not a robot."""
        verdict = self._contact.get(email)
        if verdict is None:
            verdict = self._contact[email] = (
                bool(email) and not self.is_internal(email) and not is_bot(email)
            )
        return verdict
