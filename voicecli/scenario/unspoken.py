"""How much of an agent's reply is still to come, where the provider says: it sends the
reply's whole text and, with its audio, the characters each chunk speaks (ElevenLabs'
``agent_response`` and ``alignment``). A reply is not over while part of its text is
unspoken (its audio may pause mid-sentence); a provider without alignment never says so."""

from __future__ import annotations

from voicecli.protocol.events import AgentAudio, Event, Interruption, TranscriptFinal
from voicecli.session.events import SessionClosed

SLACK_CHARS = 2  # punctuation or spacing the alignment may leave out


class UnspokenText:
    """Fed every event; ``pending`` while a reply's alignment has spoken part of its text."""

    def __init__(self) -> None:
        self._text: dict[int, int] = {}  # reply turn -> its whole text's length
        self._spoken: dict[int, int] = {}  # reply turn -> characters its audio spoke so far

    def take(self, event: Event) -> None:
        if isinstance(event, TranscriptFinal) and event.role == "agent" and event.turn is not None:
            self._text[event.turn] = len(event.text.strip())
        elif isinstance(event, AgentAudio) and event.text and event.turn is not None:
            self._spoken[event.turn] = self._spoken.get(event.turn, 0) + len(event.text)
        elif isinstance(event, (Interruption, SessionClosed)):
            self._text.clear()  # a cut reply's rest never comes
            self._spoken.clear()

    @property
    def pending(self) -> bool:
        return any(turn in self._text and self._text[turn] - spoken > SLACK_CHARS
                   for turn, spoken in self._spoken.items())
