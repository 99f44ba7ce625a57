"""The rules brain: a small offline assistant for the time, the date and simple arithmetic.

It understands text the way PocketSphinx writes it (lower-case words, numbers spelt out,
"what is twelve plus seven") as well as typed text with digits and symbols ("12 + 7").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from fractions import Fraction

from voicecli.agent.speech.numbers import parse_expression, say_number

HELP = [
    "I can tell you the time and the date, and do simple arithmetic.",
    "For example, ask me: what is twelve plus seven, or what time is it.",
]
GREETING = "Hello! I'm your local voice agent. Ask me the time, the date, or a sum, or say help."

# "what is the date today" often comes out of the recogniser as "what is the day to day"
_DATE_PHRASES = ("date", "what day", "which day", "the day", "day is it", "is today", "month", "year")
_ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


def _has(words: set[str], text: str, *phrases: str) -> bool:
    """True when ``text`` holds one of ``phrases`` (multi-word) or ``words`` one of them (single)."""
    return any((" " in p and f" {p} " in f" {text} ") or p in words for p in phrases)


class RulesBrain:
    """A :class:`~voicecli.agent.interfaces.Brain` that answers from fixed rules, offline."""

    name = "rules"

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or datetime.now

    def greeting(self) -> str | None:
        return GREETING

    async def reply(self, user_text: str) -> AsyncGenerator[str, None]:
        for sentence in self.answer(user_text):
            yield sentence
            await asyncio.sleep(0)

    def answer(self, user_text: str) -> list[str]:
        """The reply, one sentence per item."""
        text = _normalise(user_text)
        words = set(text.split())
        if not words:
            return ["Sorry, I didn't catch that.", "Could you say it again?"]
        hello = ["Hello!"] if _has(words, text, "hello", "hi", "hey", "howdy", "good morning") else []
        rules = (self._arithmetic, self._help, self._weather, self._time, self._date, self._small_talk)
        for rule in rules:
            sentences = rule(text, words)
            if sentences:
                return hello + sentences
        if hello:
            return ["Hello!", "How can I help you?"]
        return [f"Sorry, I didn't understand “{user_text.strip()}”.", "Say help to hear what I can do."]

    # -- rules: each returns sentences, or [] when it does not apply ----------------------

    def _arithmetic(self, text: str, words: set[str]) -> list[str]:
        parsed = parse_expression(text)
        if parsed is None:
            return []
        spoken, value = parsed
        if value is None:
            return ["You can't divide by zero."]
        return [f"{spoken} is {_say_result(value)}."]

    def _help(self, text: str, words: set[str]) -> list[str]:
        if _has(words, text, "help", "what can you do", "what do you do"):
            return list(HELP)
        return []

    def _time(self, text: str, words: set[str]) -> list[str]:
        if not _has(words, text, "time", "clock", "what hour"):
            return []
        now = self._now()
        hour = now.hour % 12 or 12
        return [f"It's {hour}:{now.minute:02d} {'AM' if now.hour < 12 else 'PM'}."]

    def _date(self, text: str, words: set[str]) -> list[str]:
        if not _has(words, text, *_DATE_PHRASES):
            return []
        now = self._now()
        suffix = _ORDINAL.get(now.day, "th")
        return [f"Today is {now:%A}, the {now.day}{suffix} of {now:%B} {now.year}."]

    def _weather(self, text: str, words: set[str]) -> list[str]:
        if _has(words, text, "weather", "forecast", "temperature"):
            return ["I can't check the weather: I have no internet connection.", "I can tell you the time, though."]
        return []

    def _small_talk(self, text: str, words: set[str]) -> list[str]:
        if _has(words, text, "how are you", "how re you"):  # the recogniser writes "how're you"
            return ["I'm doing well, thank you.", "How can I help?"]
        if _has(words, text, "your name", "who are you"):
            return ["I'm the local voice agent.", "I run entirely on this computer."]
        if _has(words, text, "thanks", "thank you"):
            return ["You're welcome!"]
        if _has(words, text, "bye", "goodbye", "good bye", "see you"):
            return ["Goodbye!", "It was nice talking to you."]
        return []


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("what's", "what is").replace("it's", "it is")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,250 → 1250
    text = re.sub(r"([+*/×÷=-])", r" \1 ", text)
    text = re.sub(r"[^\w\s.+*/×÷=-]|(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


def _say_result(value: Fraction) -> str:
    if value.denominator == 1:
        return say_number(value)
    rounded = round(value, 3)
    return say_number(rounded) if rounded == value else f"about {say_number(rounded)}"
