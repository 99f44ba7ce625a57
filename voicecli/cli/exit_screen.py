"""What ``voicecli talk`` leaves on the normal screen after the full-screen app: the last
turns of the conversation, the session summary and the files written (rich; ``NO_COLOR``
and a non-terminal stderr print plain text)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from voicecli.secrets import redact
from voicecli.session.summary import SessionSummary
from voicecli.session.transcript import Turn

LAST_TURNS = 20  # the conversation shown at exit; the transcript file holds all of it
_WHO = {"user": ("You", "bold cyan"), "agent": ("Agent", "bold green")}


def _turn_line(turn: Turn) -> Text:
    who, style = _WHO.get(turn.role, ("·", "dim"))
    stamp = time.strftime("%H:%M:%S", time.localtime(turn.at))
    line = Text(f"{stamp} ", style="dim")
    line.append(f"{who:<5} ", style=style)
    text = redact(turn.text).strip() or ("(audio, no text)" if turn.audio_s > 0 else "")
    line.append(text, style="italic" if turn.kind in ("reasoning", "tool") else "")
    if turn.interrupted:
        line.append(" (interrupted)", style="yellow")
    return line


def print_exit(turns: Sequence[Turn], summary: SessionSummary, *, log_file: Path | None = None,
               last: int = LAST_TURNS, file: TextIO | None = None) -> None:
    """The conversation (its last ``last`` turns) and the summary, with a rule between."""
    console = Console(file=file, stderr=file is None, highlight=False, soft_wrap=True,
                      no_color="NO_COLOR" in os.environ or None)
    shown = [t for t in turns if t.text.strip() or t.audio_s > 0]
    if shown:
        if len(shown) > last:
            console.print(Text(f"… {len(shown) - last} earlier turns in the transcript file", style="dim"))
        for turn in shown[-last:]:
            console.print(_turn_line(turn))
    console.rule(Text("session summary", style="bold"), style="dim")
    for line in summary.lines():
        console.print(Text(redact(line)))
    if log_file is not None:
        console.print(Text(f"log: {log_file}"))
