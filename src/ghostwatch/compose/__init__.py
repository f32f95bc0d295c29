"""Drafts and the digest, from Jinja2 templates (DESIGN.md §3 `compose/`)."""
