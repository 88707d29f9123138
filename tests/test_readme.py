"""The README documents what the code does: the layer schema and every CLI command."""

from __future__ import annotations

import re

from planning.schema import LAYERS
from tests.helpers.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_layer_table_matches_the_schema() -> None:
    for name, spec in LAYERS.items():
        row = re.search(rf"^\| `{name}` \|(.+)$", README, flags=re.MULTILINE)
        assert row, f"no README row for layer {name}"
        assert spec.geometry in row.group(1)
        for field in spec.fields:
            assert f"`{field.name}`" in row.group(1), f"{name}.{field.name} missing from README"
            for choice in field.choices:
                assert f"`{choice}`" in row.group(1), f"{name}.{field.name}={choice} missing"


def test_readme_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:15])
    assert "make demo" in first_screen
    assert "make test" in first_screen


def _command_paths(group, prefix=()):
    import click

    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, path)
        else:
            yield path


def test_every_cli_command_is_documented() -> None:
    import typer

    from vigie.cli import app

    paths = list(_command_paths(typer.main.get_command(app)))
    assert ("validate",) in paths
    for path in paths:
        assert f"`vigie {' '.join(path)}" in README, f"vigie {' '.join(path)} not in the README"
