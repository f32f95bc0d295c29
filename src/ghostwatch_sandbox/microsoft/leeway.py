"""What the Microsoft Graph v1.0 reference allows and the sandbox does not do by default.

The sandbox's defaults answer the way Exchange usually does. A provider proved only
against them shares our assumptions, so each freedom the reference leaves Exchange can
be switched on here, alone (`Leeway(...)`) or all at once (`WORST_CASE`), and the Outlook
contract suites run in both (tests/providers/microsoft). Each field cites the sentence
that allows it; docs/providers.md lists them with what ghostwatch does about each.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghostwatch_sandbox.microsoft.errors import GraphError


@dataclass(frozen=True, slots=True)
class Leeway:
    expiry_status: int = 410
    expiry_code: str = "syncStateNotFound"
    """How an expired delta link is refused. delta-query-overview: "a 40X-series error
    with error codes such as `syncStateNotFound`" (404 and 400 `resyncRequired` are seen)."""
    bare_headers: bool = False
    """`internetMessageHeaders` without From/To/Cc/Message-ID: resources/message promises
    only "headers indicating the network path taken by a message from the sender to the
    recipient" (microsoft-graph-docs issues #3066, #6938)."""
    reply_drops_custom_headers: bool = False
    """message-createreply documents only `comment`, `message` and MIME; custom `x-`
    headers are documented for creating a message (user-post-messages), not a reply."""
    plain_text_parts: bool = False
    """A batch part whose body is text/* travels as a plain JSON string: OData JSON
    Format v4.01 §19.2, "for textual media types … the value is a JSON string"."""
    ignores_message_id: bool = False
    """resources/message: `internetMessageId` is "updatable only if isDraft is true":
    a create that makes a received (non-draft) message may not keep the one given."""

    def expired(self) -> GraphError:
        message = "The sync state generation is no longer available."
        return GraphError(self.expiry_status, self.expiry_code, message)


REFERENCE = Leeway()
WORST_CASE = Leeway(
    expiry_status=404,
    expiry_code="syncStateNotFound",
    bare_headers=True,
    reply_drops_custom_headers=True,
    plain_text_parts=True,
    ignores_message_id=True,
)
"""Every freedom at once: what the provider must survive."""
