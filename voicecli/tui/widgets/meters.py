"""Level meters for the mic and the agent, and the agent-talking indicator."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from voicecli.tui.state import TalkState

FLOOR_DB = -60.0
BAR_CELLS = 12
MIN_REDRAW_S = 0.08  # at most about 12 redraws a second, whatever the event rate


def shown_db(level_db: float) -> str:
    """The number beside a bar: whole dB, or ``--`` for silence."""
    return "  --" if level_db <= -99 else f"{level_db:4.0f}"


def bar(level_db: float, cells: int = BAR_CELLS) -> str:
    """``level_db`` (dBFS) as a bar of ``cells`` characters, floor at -60 dB."""
    fraction = (max(FLOOR_DB, min(0.0, level_db)) - FLOOR_DB) / -FLOOR_DB
    full = round(fraction * cells)
    return "█" * full + "░" * (cells - full)


class LevelMeter(Widget):
    """``label ▕██████░░░░▏ -32 dB``, plus a state word (muted, closed) for the mic."""

    DEFAULT_CSS = "LevelMeter { height: 1; width: auto; }"  # the app's stylesheet shares out the row

    level: reactive[float] = reactive(-100.0, layout=False)
    state: reactive[str] = reactive("", layout=True)

    def __init__(self, label: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.label = label
        self._drawn_at = 0.0
        self._drawn: tuple[str, str, bool] | None = None

    @staticmethod
    def looks(level_db: float) -> tuple[str, str, bool]:
        """What the meter shows for a level: the bar, the number and the emphasis."""
        return bar(level_db), shown_db(level_db), level_db > -45

    def set_level(self, level_db: float) -> None:
        """Redraws only when what is shown changes, at most every ``MIN_REDRAW_S`` (a drop
        to silence at once); a skipped change is drawn by a later call, as levels are polled."""
        looks = self.looks(level_db)
        if looks == self._drawn:
            return
        now = time.monotonic()
        if now - self._drawn_at < MIN_REDRAW_S and level_db > FLOOR_DB:
            return
        self._drawn_at, self._drawn = now, looks
        self.level = level_db

    def render(self) -> Text:
        text = Text(f"{self.label} ", no_wrap=True, overflow="ellipsis")
        fixed = len(self.label) + 11 + (len(self.state) + 1 if self.state else 0)
        cells = max(3, min(BAR_CELLS, self.size.width - fixed)) if self.size.width else BAR_CELLS
        text.append(f"▕{bar(self.level, cells)}▏", style="bold" if self.level > -45 else "")
        text.append(f" {shown_db(self.level)} dB")
        if self.state:
            text.append(f" {self.state}", style="bold")
        return text

    def get_content_width(self, container: object, viewport: object) -> int:  # type: ignore[override]
        return len(self.label) + BAR_CELLS + 11 + (len(self.state) + 1 if self.state else 0)


class TalkingIndicator(Widget):
    """Says whether the agent is talking (text, so it reads without colour); rendered
    from the state, which knows the connection phase too."""

    DEFAULT_CSS = "TalkingIndicator { height: 1; width: 17; }"

    def __init__(self, state: TalkState, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.state = state

    @property
    def talking(self) -> bool:
        return self.state.live and self.state.agent_talking

    def render(self) -> Text:
        return Text(self.state.talk_word, style="bold" if self.talking else "")

    def show(self) -> None:
        self.set_class(self.talking, "-talking")
        self.refresh()
