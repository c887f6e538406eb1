"""Every command is documented: in its own --help and in docs/commands.md (after sqlite-utils)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from govkit.cli import main

COMMANDS_DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_walk(command, path))
    return found


COMMANDS = _walk(main)
IDS = [" ".join(path) for path, _ in COMMANDS]


def test_walk_finds_the_subcommands() -> None:
    assert {"scan", "inventory", "inventory diff", "report audit"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"govkit {' '.join(path)} has no help text"
    assert command.get_short_help_str().strip()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"govkit {' '.join(path)} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_is_documented(path: tuple[str, ...], command: click.Command) -> None:
    assert COMMANDS_DOC.is_file(), f"{COMMANDS_DOC} is missing"
    text = COMMANDS_DOC.read_text(encoding="utf-8")
    pattern = r"\bgovkit\s+" + r"\s+".join(re.escape(part) for part in path) + r"\b"
    assert re.search(pattern, text), f"'govkit {' '.join(path)}' is not mentioned in docs/commands.md"


#: Words that promise rather than describe: a stale sentence about something that now works.
_STALE = re.compile(r"coming soon|\bTODO\b|not yet (implemented|supported|applied)|will (be )?(pseudonymi[sz]e|encrypt"
                    r"|support|appear|be added|land)|once those capabilities", re.IGNORECASE)


def test_help_texts_docs_and_templates_do_not_promise() -> None:
    """Stale words are bugs: help texts, docs and report templates describe what exists now."""
    import click

    from govkit.cli import main

    found: list[str] = []
    ctx = click.Context(main)

    def walk(command: click.Command, path: str) -> None:
        texts = [command.help or "", *(getattr(p, "help", "") or "" for p in command.params)]
        found.extend(f"govkit {path}: {m.group()}" for t in texts for m in _STALE.finditer(t))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, f"{path} {name}".strip())

    walk(main, "")
    root = Path(__file__).resolve().parents[1]
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "templates").glob("*.j2"))]:
        found.extend(f"{path.name}: {m.group()}" for m in _STALE.finditer(path.read_text(encoding="utf-8")))
    assert not found, found
