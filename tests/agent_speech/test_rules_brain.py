"""The rules brain: time, date, arithmetic in digits and words, help, not understood."""

from __future__ import annotations

from datetime import datetime

import pytest

from voicecli.agent.brains.rules import RulesBrain
from voicecli.agent.voice_contracts import Brain

NOW = datetime(2026, 11, 22, 15, 5)


@pytest.fixture
def brain() -> RulesBrain:
    return RulesBrain(now=lambda: NOW)


async def say(brain: Brain, text: str) -> list[str]:
    return [sentence async for sentence in brain.reply(text)]


async def test_is_a_brain_with_a_greeting(brain: RulesBrain) -> None:
    as_brain: Brain = brain
    assert as_brain.name == "rules"
    greeting = as_brain.greeting()
    assert greeting and "hello" in greeting.lower()


async def test_time(brain: RulesBrain) -> None:
    assert await say(brain, "what time is it") == ["It's 3:05 PM."]
    morning = RulesBrain(now=lambda: datetime(2026, 1, 2, 0, 30))
    assert await say(morning, "What's the time?") == ["It's 12:30 AM."]


async def test_date(brain: RulesBrain) -> None:
    assert await say(brain, "what is the date today") == ["Today is Sunday, the 22nd of November 2026."]
    first = RulesBrain(now=lambda: datetime(2026, 5, 1, 9, 0))
    assert await say(first, "what day is it") == ["Today is Friday, the 1st of May 2026."]
    # how the recogniser usually writes "what is the date today"
    assert await say(first, "what is the day to day") == ["Today is Friday, the 1st of May 2026."]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("what is 12 plus 7", "12 plus 7 is 19."),
        ("What is 12 + 7?", "12 plus 7 is 19."),
        ("what is 1,250 divided by 5", "1250 divided by 5 is 250."),
        ("6*7", "6 times 7 is 42."),
        ("2 + 3 * 4", "2 plus 3 times 4 is 14."),
        ("10 / 4", "10 divided by 4 is 2.5."),
    ],
)
async def test_arithmetic_in_digits(brain: RulesBrain, question: str, answer: str) -> None:
    assert await say(brain, question) == [answer]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("what is twelve plus seven", "12 plus 7 is 19."),
        ("three times four", "3 times 4 is 12."),
        ("what is one hundred and five minus six", "105 minus 6 is 99."),
        ("twenty one multiplied by three", "21 times 3 is 63."),
        ("two minus five", "2 minus 5 is minus 3."),
        ("one divided by three", "1 divided by 3 is about 0.333."),
        ("three point five times two", "3.5 times 2 is 7."),
        ("what is for times four", "4 times 4 is 16."),  # how the recogniser often writes "four"
        ("add three and four", "3 plus 4 is 7."),
        ("subtract two from ten", "10 minus 2 is 8."),
    ],
)
async def test_arithmetic_in_words(brain: RulesBrain, question: str, answer: str) -> None:
    assert await say(brain, question) == [answer]


async def test_division_by_zero(brain: RulesBrain) -> None:
    assert await say(brain, "ten divided by zero") == ["You can't divide by zero."]


async def test_help_says_what_it_can_do(brain: RulesBrain) -> None:
    reply = " ".join(await say(brain, "help"))
    for topic in ("time", "date", "arithmetic"):
        assert topic in reply
    assert await say(brain, "what can you do") == await say(brain, "help")


async def test_greeting_and_small_talk(brain: RulesBrain) -> None:
    assert await say(brain, "hello") == ["Hello!", "How can I help you?"]
    assert await say(brain, "how're you") == ["I'm doing well, thank you.", "How can I help?"]
    weather = await say(brain, "hello there what is the weather in paris today")
    assert weather[0] == "Hello!" and "weather" in weather[1]


async def test_not_understood_is_said_clearly(brain: RulesBrain) -> None:
    reply = await say(brain, "purple monkey dishwasher")
    assert reply[0] == "Sorry, I didn't understand “purple monkey dishwasher”."
    assert "help" in reply[1]
    assert await say(brain, "  ") == ["Sorry, I didn't catch that.", "Could you say it again?"]


async def test_replies_are_streamed_one_sentence_at_a_time(brain: RulesBrain) -> None:
    stream = brain.reply("help")
    first = await stream.__anext__()
    assert first.endswith(".") and "time" in first
    rest = [s async for s in stream]
    assert len(rest) == 1
