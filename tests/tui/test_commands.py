from __future__ import annotations

import pytest

from voicecli.tui.commands import SlashCommand, SlashError, parse_slash, unescape


def test_plain_text_is_not_a_command() -> None:
    assert parse_slash("hello /mute") is None
    assert parse_slash("//etc/hosts") is None
    assert unescape("//etc/hosts") == "/etc/hosts"


def test_commands_and_arguments() -> None:
    assert parse_slash("/mute") == SlashCommand("mute")
    assert parse_slash("  /PTT hold ") == SlashCommand("ptt", "hold")
    assert parse_slash("/context the user is in Paris") == SlashCommand("context", "the user is in Paris")
    assert parse_slash("/q") == SlashCommand("quit")


@pytest.mark.parametrize(("line", "message"), [("/export", "needs PATH"), ("/dance", "unknown command")])
def test_errors(line: str, message: str) -> None:
    with pytest.raises(SlashError, match=message):
        parse_slash(line)
