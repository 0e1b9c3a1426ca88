"""Docs kept in step with the command line: every command is in the README with its options."""

from __future__ import annotations

import re
from pathlib import Path

import click

from registry.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)[ `]", readme, re.M))
    assert set(main.commands) <= documented, set(main.commands) - documented


def test_every_option_of_every_command_appears_in_the_docs():
    docs = (REPO / "README.md").read_text() + "".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    missing = []
    for name, cmd in main.commands.items():
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    if opt.startswith("--") and opt not in ("--help",) and opt not in docs:
                        missing.append(f"{name} {opt}")
    assert missing == []
