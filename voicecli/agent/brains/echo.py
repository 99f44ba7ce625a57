"""The echo brain: a deterministic agent that repeats what it was told."""

from __future__ import annotations

from collections.abc import AsyncIterator

from voicecli.agent.voice_contracts import BaseBrain

GREETING = "Hello! This is the local voice agent. Type or talk, and I will echo you."


class EchoBrain(BaseBrain):
    """Typed text → "You said: <text>."; an utterance with no recognised text →
    "I heard you." The engine also plays the user's audio back after the reply
    (``plays_back_audio``)."""

    name = "echo"
    plays_back_audio = True

    def __init__(self, greeting: str | None = GREETING) -> None:
        self._greeting = greeting

    def greeting(self) -> str | None:
        return self._greeting

    async def reply(self, user_text: str) -> AsyncIterator[str]:
        text = " ".join(user_text.split())
        if not text:
            yield "I heard you."
            return
        if text[-1] not in ".!?":
            text += "."
        yield f"You said: {text}"
