"""Drafts and the digest, from Jinja2 templates (docs/architecture.md `compose/`)."""
