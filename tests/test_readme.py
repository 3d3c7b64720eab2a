"""Every `wholesoil ...` command shown in the README and docs/ parses with the real CLI."""

import shlex

import pytest

from conftest import ROOT
from wholesoil.core.cli import build_parser

DOCUMENTS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def fenced_blocks(text):
    """The contents of the ``` fenced blocks of a Markdown text."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def shown_commands():
    for document in DOCUMENTS:
        for block in fenced_blocks(document.read_text(encoding="utf-8")):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                if line.startswith("wholesoil "):
                    yield pytest.param(shlex.split(line)[1:], id=f"{document.name}: {line[:60]}")


@pytest.mark.parametrize("argv", list(shown_commands()))
def test_documented_command_parses(argv):
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as error:
        raise AssertionError(f"'wholesoil {' '.join(argv)}' does not parse (exit {error.code})") from None


def test_there_are_documented_commands():
    assert len(list(shown_commands())) >= 25
