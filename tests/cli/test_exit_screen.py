"""What talk prints after the app: turns, then the summary; colour only where allowed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from voicecli.cli.exit_screen import print_exit
from voicecli.session.summary import SessionSummary
from voicecli.session.transcript import Turn

COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;5;\d+|38;2;[\d;]+)m")


def _turns(n: int) -> list[Turn]:
    return [Turn(role="user" if i % 2 == 0 else "agent", text=f"line {i}", final=True, index=i, at=0)
            for i in range(n)]


def _printed(turns: list[Turn], monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    summary = SessionSummary(started_at=0, connected_at=0, ended_at=65, user_turns=13, agent_turns=12,
                             latencies_ms=[100, 200, 300])
    print_exit(turns, summary, log_file=Path("/tmp/v.log"), file=out)
    return out.getvalue()


def test_the_last_turns_then_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _printed(_turns(25), monkeypatch)
    lines = text.splitlines()
    assert lines[0] == "… 5 earlier turns in the transcript file"
    assert re.fullmatch(r"\d\d:\d\d:\d\d Agent line 5", lines[1]) and lines[20].endswith("You   line 24")
    assert "session summary" in lines[21]
    assert lines[22:] == ["1 min 05 s · 13 user turns · 12 agent turns",
                          "reply latency p50 200 ms · p95 290 ms (3 replies)", "log: /tmp/v.log"]


def test_colour_on_a_terminal_and_none_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert COLOUR.search(_printed(_turns(2), monkeypatch, FORCE_COLOR="1"))
    plain = _printed(_turns(2), monkeypatch, FORCE_COLOR="1", NO_COLOR="1")
    assert not COLOUR.search(plain) and "You   line 0" in re.sub(r"\x1b\[[0-9;]*m", "", plain)
    assert "\x1b" not in _printed(_turns(2), monkeypatch)  # not a terminal: plain text
