"""Google: Gmail (`gmail` reads, `sync` finds what to read, `actions` writes drafts, rescues
and the digest), Google Calendar and Meet attendance (`calendar`), sign-in (`signin`), the
client plumbing every call goes through (`api`) and Gmail's quota table (`quota`)."""
