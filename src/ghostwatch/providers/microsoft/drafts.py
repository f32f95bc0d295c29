"""Whether Outlook's Drafts changed, from the delta the mail poll already reads.

The account's `OutlookSource` reads every mail folder's delta in one `$batch`, Drafts
among them (`folders.py`), and an empty round is Graph's word that nothing in that folder
changed since the link was issued (https://learn.microsoft.com/en-us/graph/delta-query-messages).
So the source tells a `DraftWatch` what its poll saw of Drafts, and `OutlookActions`
answers the cycle's `draft_listing` from its last delta of Drafts while those polls
vouch for it: an idle cycle is the poll's one request (docs/providers.md).

The listing is trusted only when a poll that began before it, and every one after it,
saw nothing in Drafts: a watch no source feeds, a poll that saw Drafts change (a draft
the user wrote, edited, sent or deleted — or one ghostwatch made, which shows there
too) or a write of ghostwatch's own make the next `draft_listing` read Drafts again.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFTS = "drafts"
"""The Drafts folder's key in a poll (its well-known name, `folders.ROLES`)."""


@dataclass(slots=True)
class DraftWatch:
    listed: bool = False
    """A listing was taken that no poll has shown out of date since."""
    vouched: bool = False
    """A poll since the listing (or since it was last used) saw Drafts unchanged."""

    def saw(self, touched: frozenset[str]) -> None:
        """A poll, continuing the last committed one, saw something in `touched`."""
        if not self.listed:
            return
        if DRAFTS in touched:
            self.lost()
        else:
            self.vouched = True

    def lost(self) -> None:
        self.listed = self.vouched = False

    def listing_taken(self) -> None:
        self.listed, self.vouched = True, False

    def usable(self) -> bool:
        """Whether the last listing still holds; each use takes the poll's vouch."""
        if not (self.listed and self.vouched):
            return False
        self.vouched = False
        return True
