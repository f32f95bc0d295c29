"""Provider-neutral values: what every provider translates the outside world into.

- `mail`: folders, addresses, messages and what a body yields (`Content`), and the facts
  about addresses and subjects every part reads the same way (organization, display subject).
- `calendar`: events, attendees and their answers.
- `decisions`: what the engine decides (`Plan` and its parts) and what `classify` finds.
- `outbox`: what ghostwatch writes: drafts, the digest, and the user who signs them.
- `sync`: what an incremental read hands the store, and an account's trouble record.

The engine reads only these types. They are frozen and slotted: a 100,000-message
mailbox is held in memory as these objects, so they stay small.
"""
