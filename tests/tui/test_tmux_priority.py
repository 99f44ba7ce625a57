"""The terminal the tests type into stands in for the user's: the app it runs is ahead of the
suite's own batch work (Linux shares the CPU between sessions first, so the pane's session is
raised, not only its shell). Where raising is not allowed (no CAP_SYS_NICE), the defaults stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.priority import can_raise
from tests.support.terminal import PROMPT, open_tmux

pytestmark = pytest.mark.tmux


def test_what_the_pane_runs_is_raised_with_its_session(tmp_path: Path) -> None:
    nice = -5 if can_raise() else 0
    with open_tmux(tmp_path) as tmux:
        tmux.send("clear; echo NICE=$(nice); cat /proc/self/autogroup 2>/dev/null || echo no-autogroup", "Enter")
        screen = tmux.wait_for(lambda s: "NICE=" in s and s.rstrip().endswith(PROMPT), "the shell's answer")
    assert f"NICE={nice}" in screen, screen  # a command started in the pane, as the app is
    if "no-autogroup" not in screen:
        assert any(line.endswith(f"nice {nice}") for line in screen.splitlines() if "/autogroup-" in line), screen
