"""A local Maildir++ tree: read (`source`) and, for a daemon account, written (`actions`)."""
