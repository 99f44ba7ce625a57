"""The brains' session hooks: the rules brain asks the client's tool for the time; the llm
brain takes a client's prompt and language."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from voicecli.agent.brains.llm import SYSTEM_PROMPT, LlmBrain
from voicecli.agent.brains.rules import LOCAL_TIME_TOOL, RulesBrain


def brain() -> RulesBrain:
    return RulesBrain(now=lambda: datetime(2024, 5, 17, 15, 5), tool_timeout_s=0.2)


async def say(b: RulesBrain, text: str) -> list[str]:
    return [sentence async for sentence in b.reply(text)]


class Client:
    """A client that answers tool calls the way it was told to."""

    def __init__(self, answer: tuple[Any, bool] | None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, arguments: Mapping[str, Any]) -> tuple[Any, bool]:
        self.calls.append((name, dict(arguments)))
        if self.answer is None:
            await asyncio.Event().wait()  # never answers
        assert self.answer is not None
        return self.answer


async def test_time_comes_from_the_clients_tool() -> None:
    b, client = brain(), Client(("10:42 AM", False))
    b.bind_client_tools(client)
    assert await say(b, "hello, what time is it?") == ["Hello!", "Your local time is 10:42 AM."]
    assert client.calls == [(LOCAL_TIME_TOOL, {})]
    assert await say(b, "what is two plus two") == ["2 plus 2 is 4."]
    assert len(client.calls) == 1  # only time questions ask the client


async def test_tool_error_or_silence_falls_back_to_the_agents_clock() -> None:
    for answer in (("no clock", True), ("", False), None):
        b = brain()
        b.bind_client_tools(Client(answer))
        assert await say(b, "what time is it") == ["It's 3:05 PM."], answer


async def test_without_client_tools_the_agents_clock_answers() -> None:
    assert await say(brain(), "what time is it") == ["It's 3:05 PM."]


def test_llm_brain_takes_the_prompt_and_language() -> None:
    b = LlmBrain("http://127.0.0.1:9", "m")
    assert b.system_prompt == SYSTEM_PROMPT
    b.configure(prompt="You are a pirate.", language="fr")
    assert b.system_prompt.startswith("You are a pirate.") and "'fr'" in b.system_prompt
    b = LlmBrain("http://127.0.0.1:9", "m")
    b.configure(prompt=None, language=None)
    assert b.system_prompt == SYSTEM_PROMPT
