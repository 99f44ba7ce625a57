"""The rules brain: a small offline assistant for the time, the date and simple arithmetic.

It understands text the way PocketSphinx writes it (lower-case words, numbers spelt out,
"what is twelve plus seven") as well as typed text with digits and symbols ("12 + 7").
:meth:`RulesBrain.grammar` is the JSGF grammar of the sentences it answers (``SENTENCES``), for
ears constrained to them; :meth:`RulesBrain.understands` says whether a text gets an answer.

When the session can run client tools (:meth:`RulesBrain.bind_client_tools`), the time
is the client's: it asks for ``get_local_time`` and says "Your local time is <result>.";
when the client answers with an error, or not within ``tool_timeout_s``, it says its
own clock's time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from fractions import Fraction

from voicecli.agent.speech.grammar import jsgf
from voicecli.agent.speech.numbers import parse_expression, say_number
from voicecli.agent.voice_contracts import BaseBrain, ClientToolCall

HELP = [
    "I can tell you the time and the date, and do simple arithmetic.",
    "For example, ask me: what is twelve plus seven, or what time is it.",
]
log = logging.getLogger(__name__)

LOCAL_TIME_TOOL = "get_local_time"
TOOL_TIMEOUT_S = 5.0
ToolCall = ClientToolCall  # → (result, is_error)

GREETING = "Hello! I'm your local voice agent. Ask me the time, the date, or a sum, or say help."

# What the rules below answer, as people say it (JSGF expansions; ``<sum>`` and ``<number>`` are
# the spoken sums and numbers of :mod:`voicecli.agent.speech.grammar`): the recogniser is
# constrained to these sentences (:meth:`RulesBrain.grammar`), so each must be answered.
_GREET = "hello | hi | hey | good morning"
SENTENCES = (
    "[what is | what's | how much is | calculate] <sum>",
    "what time is it [now] | what is the time [now] | what's the time [now] | tell me the time",
    "what is the date [today] | what's the date [today] | what is today's date | what day is it [today]"
    " | which day is it [today] | what is the day today | what month is it | what year is it",
    "help [me] | what can you do | what do you do",
    "(what is | what's) the (weather | forecast | temperature) [like] [today]",
    "how are you | (what is | what's) your name | who are you | thank you | thanks | goodbye | bye | see you",
)

# "what is the date today" often comes out of the recogniser as "what is the day to day"
_DATE_PHRASES = ("date", "what day", "which day", "the day", "day is it", "is today", "month", "year")
_HELLO = ("hello", "hi", "hey", "howdy", "good morning")
_ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


def _has(words: set[str], text: str, *phrases: str) -> bool:
    """True when ``text`` holds one of ``phrases`` (multi-word) or ``words`` one of them (single)."""
    return any((" " in p and f" {p} " in f" {text} ") or p in words for p in phrases)


class RulesBrain(BaseBrain):
    """A :class:`~voicecli.agent.voice_contracts.Brain` that answers from fixed rules, offline."""

    name = "rules"

    def __init__(self, now: Callable[[], datetime] | None = None, tool_timeout_s: float = TOOL_TIMEOUT_S) -> None:
        self._now = now or datetime.now
        self._call_tool: ToolCall | None = None
        self.tool_timeout_s = tool_timeout_s

    def greeting(self) -> str | None:
        return GREETING

    def grammar(self) -> str:
        """The JSGF grammar of what this brain answers (for a constrained recogniser)."""
        sentences = [f"[{_GREET}] ({s}) [please]" for s in SENTENCES]
        return jsgf([*sentences, f"({_GREET}) [there]"])

    def understands(self, text: str) -> bool:
        """True when ``text`` gets an answer rather than "Sorry, I didn't understand"."""
        normal = _normalise(text)
        return self._rule_for(text) is not None or _has(set(normal.split()), normal, *_HELLO)

    def bind_client_tools(self, call: ToolCall) -> None:
        """The session can ask its client to run tools: ``await call(name, arguments)``."""
        self._call_tool = call

    async def reply(self, user_text: str) -> AsyncGenerator[str, None]:
        local_time = None
        if self._call_tool is not None and self._rule_for(user_text) == self._time:
            local_time = await self._client_time(self._call_tool)
        for sentence in self.answer(user_text, local_time=local_time):
            yield sentence
            await asyncio.sleep(0)

    async def _client_time(self, call: ToolCall) -> str | None:
        try:
            result, is_error = await asyncio.wait_for(call(LOCAL_TIME_TOOL, {}), self.tool_timeout_s)
        except TimeoutError:
            log.info("the client did not answer %s in time", LOCAL_TIME_TOOL)
            return None
        text = " ".join(str(result).split()).rstrip(".") if result is not None else ""
        return None if is_error or not text else text

    def _rules(self) -> tuple[Callable[[str, set[str]], list[str]], ...]:
        return (self._arithmetic, self._help, self._weather, self._time, self._date, self._small_talk)

    def _rule_for(self, user_text: str) -> Callable[[str, set[str]], list[str]] | None:
        text = _normalise(user_text)
        words = set(text.split())
        return next((rule for rule in self._rules() if words and rule(text, words)), None)

    def answer(self, user_text: str, local_time: str | None = None) -> list[str]:
        """The reply, one sentence per item; ``local_time``: the client's answer to a time question."""
        text = _normalise(user_text)
        words = set(text.split())
        if not words:
            return ["Sorry, I didn't catch that.", "Could you say it again?"]
        hello = ["Hello!"] if _has(words, text, *_HELLO) else []
        for rule in self._rules():
            sentences = rule(text, words)
            if sentences:
                if rule == self._time and local_time:
                    sentences = [f"Your local time is {local_time}."]
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
