"""One Jinja2 environment: the package's templates, overridable from a folder.

A user's folder (named in the config) is searched first, so copying one built-in
template there and editing it changes only that template.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2


# One environment per folder, kept: it caches compiled templates, which measured ~75 ms a
# digest to rebuild. Jinja checks each file's mtime before using its cached template
# (`auto_reload`, on by default), so an edited override is still picked up.
@functools.lru_cache(maxsize=8)
def environment(override: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(str(override)))
    loaders.append(jinja2.PackageLoader("ghostwatch", "compose/templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # HTML parts escape what the mail said; text parts must not.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        # A template that names a value we did not pass fails loudly, never prints blank.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
