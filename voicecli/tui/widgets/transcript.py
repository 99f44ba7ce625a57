"""The conversation pane: one bubble per turn, rewritten in place while it streams."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from voicecli.session.transcript import Turn

_WHO = {"user": "You", "agent": "Agent", "system": "voicecli"}


def turn_parts(turn: Turn) -> tuple[Text, Text]:
    """A turn as its label and its body; every state is also spelled out, not only coloured."""
    body = Text()
    if turn.kind == "error":
        body.append(turn.text)
        return Text("⚠ ", style="bold"), body
    if turn.kind == "tool":
        body.append(turn.text)
        return Text("⚙ ", style="bold"), body
    who = _WHO.get(turn.role, turn.role)
    if turn.kind == "reasoning":
        label = Text(f"{who} (thinking) ", style="bold")
        body.append(turn.text, style="italic")
    else:
        label = Text(f"{f'{who} (typed)' if turn.kind == 'typed' else who}  ", style="bold")
        body.append(turn.text or "…")
    if turn.interrupted:
        body.append("  ⏹ interrupted", style="bold")
    elif not turn.final:
        body.append(" ▍")
    return label, body


def render_turn(turn: Turn) -> Text:
    """A turn as one styled text (its plain form is what tests and exports read)."""
    label, body = turn_parts(turn)
    return Text.assemble(label, body)


class Bubble(Horizontal):
    """One turn: the speaker label and the text side by side, so wrapped lines stay
    indented under the text. ``show(turn)`` redraws it and sets classes for the stylesheet."""

    DEFAULT_CSS = """
    Bubble { height: auto; }
    Bubble > .label { width: auto; height: auto; }
    Bubble > .body { width: 1fr; height: auto; }
    """

    def __init__(self, turn: Turn) -> None:
        label, body = turn_parts(turn)
        self._label, self._body = Static(label, classes="label"), Static(body, classes="body")
        super().__init__(self._label, self._body, classes=self.classes_for(turn))
        self.turn_index = turn.index
        self.plain = render_turn(turn).plain

    @staticmethod
    def classes_for(turn: Turn) -> str:
        names = [f"-{turn.role}", f"-{turn.kind}"]
        if not turn.final:
            names.append("-streaming")
        if turn.interrupted:
            names.append("-interrupted")
        return " ".join(names)

    def show(self, turn: Turn) -> None:
        label, body = turn_parts(turn)
        self.plain = render_turn(turn).plain
        self.set_classes(self.classes_for(turn))
        self._label.update(label)
        self._body.update(body)


class NoticeLine(Static):
    """A line from the client itself (not part of the conversation or its log)."""

    DEFAULT_CSS = "NoticeLine { height: auto; }"

    def __init__(self, text: str, level: str = "info") -> None:
        mark = {"warning": "! ", "error": "⚠ "}.get(level, "· ")
        super().__init__(Text(mark + text), classes=f"-{level}")
        self.level = level
        self.text = text


class TranscriptView(VerticalScroll, can_focus=True):
    """The transcript pane. Follows the newest turn unless the user scrolled up."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._bubbles: dict[int, Bubble] = {}
        self._pinned = False  # the user sent something: follow until the reply shows

    def show_turns(self, turns: list[Turn]) -> None:
        follow = self._pinned or self.is_vertical_scroll_end or self.max_scroll_y == 0
        if any(t.role == "agent" for t in turns):
            self._pinned = False
        for turn in turns:
            bubble = self._bubbles.get(turn.index)
            if bubble is None:
                bubble = Bubble(turn)
                # a turn shown late (an agent reply whose audio came before its text) keeps
                # its place in the conversation: before the turns that came after it
                later = [i for i in self._bubbles if i > turn.index]
                self._bubbles[turn.index] = bubble
                if later:
                    self.mount(bubble, before=self._bubbles[min(later)])
                else:
                    self.mount(bubble)
            else:
                bubble.show(turn)
        if turns and follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def follow(self) -> None:
        """Back to the newest line (and following it): the user just sent something."""
        self._pinned = True
        self.scroll_end(animate=False)

    def notice(self, text: str, level: str = "info") -> None:
        follow = self._pinned or self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.mount(NoticeLine(text, level))
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    @property
    def texts(self) -> list[str]:
        """What the pane shows, one string per line item (for tests and exports)."""
        out: list[str] = []
        for child in self.children:
            if isinstance(child, Bubble):
                out.append(child.plain)
            elif isinstance(child, NoticeLine):
                out.append(child.text)
        return out
