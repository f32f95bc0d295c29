"""Where the tests find the repository's files and the shared corpora."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CORPORA = REPO.parent / "shared" / "corpora"
"""Real mail nobody here wrote (its README says what each folder holds); tests that read it
skip when it is absent."""
