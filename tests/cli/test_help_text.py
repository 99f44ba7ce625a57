"""Every command's help: placeholders people read (no Python types), the dialects listed,
``-p`` wherever a profile is taken, and ``serve --brain`` as the README tells it."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from voicecli.cli.main import app
from voicecli.protocol.registry import DIALECTS

COMMANDS = [["talk"], ["smoke"], ["serve"], ["devices"], ["profiles"], ["config", "init"], []]


def help_text(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "voicecli")
def test_no_python_type_placeholders(command: list[str]) -> None:
    text = help_text(*command)
    assert not re.search(r"<(bool|str|int|float|path|list\[[^\]]*\])>", text), text


def test_flags_show_no_placeholder_and_values_show_their_metavar() -> None:
    after = {}  # an option's name → the word after it on its help line
    for line in help_text("talk").splitlines():
        found = re.match(r"\s+(?:-\w, )?(--[\w-]+)\s+(\S+)", line)
        if found:
            after[found.group(1)] = found.group(2)
    assert after["--no-audio"] == "Text"  # straight to the help: no value to give
    assert after["--record"] == "DIR"
    assert after["--timeout"] == "S"
    assert after["--log-file"] == "PATH"


def test_talk_lists_its_dialects_and_takes_short_options() -> None:
    flowing = " ".join(help_text("talk").split())  # the help as one line, however it wraps
    assert "-d, --dialect NAME" in flowing
    assert f"Wire protocol: {', '.join(DIALECTS)} (default: from the URL)" in flowing
    for command in ("talk", "smoke"):
        profile = next(row for row in help_text(command).splitlines() if "--profile" in row)
        assert re.search(r"-p, --profile\b", profile), profile


def test_serve_brain_help_says_rules_like_the_readme() -> None:
    line = next(row for row in help_text("serve").splitlines() if "--brain" in row)
    assert "rules|echo|llm" in line and "auto" not in line
    assert "[default: rules]" in help_text("serve")
