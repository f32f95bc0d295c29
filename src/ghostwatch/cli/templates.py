"""`ghostwatch templates …`: the built-in templates, written out to be edited, and a
check of a folder of them, before the daemon uses it (config `templates: DIR`)."""

from __future__ import annotations

from pathlib import Path

import click

from ghostwatch.cli.errors import user_errors
from ghostwatch.compose import templating
from ghostwatch.errors import UserError


@click.group(name="templates")
def templates() -> None:
    """Write out the built-in templates to edit, or check a folder of them."""


@templates.command(name="copy")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite templates already in FOLDER.")
def copy(folder: Path, force: bool) -> None:
    """Write every built-in template into FOLDER, to edit; then set `templates: FOLDER`
    on the account in the configuration (or pass --templates FOLDER to preview)."""
    with user_errors():
        files = templating.builtin_files()
        there = [name for name in files if (folder / name).exists()]
        if there and not force:
            raise UserError(
                f"{folder} already holds {', '.join(there)}: edit them, or pass --force to "
                "overwrite them with the built-in ones"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name in files:
                (folder / name).write_text(templating.builtin_text(name), encoding="utf-8")
        except OSError as error:
            raise UserError(f"cannot write into {folder}: {error.strerror}") from error
    click.echo(f"wrote {len(files)} templates into {folder}; the values each one gets:")
    for stem in templating.VALUES:
        click.echo(f"  {stem}.txt, {stem}.html: {', '.join(templating.VALUES[stem])}")
    click.echo(f"Then set `templates: {folder}` on the account, and `ghostwatch config check`.")


@templates.command(name="check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(folder: Path) -> None:
    """Name every problem of FOLDER's templates (file, line, unknown variable), all at
    once; `ghostwatch config check` does the same for the folders it names."""
    with user_errors():
        templating.check(folder)
    click.echo(f"{folder}: every template uses only the values it gets")
