"""The LLM brain against a fake OpenAI-compatible server: streaming, history, failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.waiting import eventually
from voicecli.agent.brains.llm import LlmBrain, chat_url
from voicecli.agent.voice_contracts import Brain

from .fake_llm import FakeLlm, Handler, chunk, running, stream_words


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    yield from running()


async def say(brain: Brain, text: str) -> list[str]:
    return [sentence async for sentence in brain.reply(text)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_chat_url_accepts_a_root_a_v1_base_or_the_endpoint() -> None:
    assert chat_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/api/v1/chat/completions") == "http://h:1/api/v1/chat/completions"


async def test_streams_sentences_and_sends_an_openai_request(llm: FakeLlm, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test-123")
    llm.script = stream_words("Hello there! The weather in Paris is mild today. Anything else?")
    brain = LlmBrain(llm.url, "tiny-model", api_key_env="TEST_LLM_KEY")
    assert await say(brain, "what is the weather in paris") == [
        "Hello there!",
        "The weather in Paris is mild today.",
        "Anything else?",
    ]
    (request,) = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["model"] == "tiny-model" and body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "what is the weather in paris"


async def test_history_is_kept_across_turns(llm: FakeLlm) -> None:
    brain = LlmBrain(llm.url + "/v1", "m")
    llm.script = stream_words("My name is Local.")
    await say(brain, "what is your name")
    llm.script = stream_words("You asked for my name.")
    assert await say(brain, "what did I ask") == ["You asked for my name."]
    messages = llm.requests[1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "what is your name"),
        ("assistant", "My name is Local."),
        ("user", "what did I ask"),
    ]
    assert "Authorization" not in llm.requests[0]["headers"]


async def test_first_sentence_arrives_before_the_model_finishes(llm: FakeLlm) -> None:
    release = threading.Event()

    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.start_sse()
        handler.send(chunk("The first sentence is ready. "))
        release.wait(5)
        handler.send(chunk("The second one came later."))
        handler.send(b"data: [DONE]\n\n")

    llm.script = script
    stream = LlmBrain(llm.url, "m").reply("go")
    first = await asyncio.wait_for(stream.__anext__(), 3)
    assert first == "The first sentence is ready."
    assert not release.is_set()
    release.set()
    assert [s async for s in stream] == ["The second one came later."]


async def test_reasoning_and_markdown_are_not_spoken(llm: FakeLlm) -> None:
    llm.script = stream_words("<think>The user wants a sum. 2+2=4.</think>The answer is **four**. Use `x`.")
    assert await say(LlmBrain(llm.url, "m"), "two plus two") == ["The answer is four.", "Use x."]


async def test_a_server_that_does_not_stream_is_understood(llm: FakeLlm) -> None:
    def script(handler: Handler, body: dict[str, Any]) -> None:
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": "Not streamed. Still fine."}}]})
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.send(data.encode())

    llm.script = script
    assert await say(LlmBrain(llm.url, "m"), "hi") == ["Not streamed.", "Still fine."]


async def test_endpoint_down_gives_a_clear_sentence_and_no_exception(caplog) -> None:  # type: ignore[no-untyped-def]
    port = closed_port()
    brain = LlmBrain(f"http://127.0.0.1:{port}", "m")
    reply = await say(brain, "hello")
    assert reply == [f"I can't reach the language model at http://127.0.0.1:{port}."]
    assert brain.history == []  # the failed question is not kept
    assert any("llm" in r.getMessage() for r in caplog.records)


async def test_http_error_is_spoken(llm: FakeLlm) -> None:
    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.send_error(404, "model not found")

    llm.script = script
    (sentence,) = await say(LlmBrain(llm.url, "missing-model"), "hi")
    assert "HTTP 404" in sentence and "model name" in sentence


async def test_error_event_in_the_stream_is_spoken(llm: FakeLlm) -> None:
    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.start_sse()
        handler.send(b'data: {"error": {"message": "context length exceeded"}}\n\n')

    llm.script = script
    assert await say(LlmBrain(llm.url, "m"), "hi") == ["The language model reported an error: context length exceeded."]


async def test_a_silent_server_times_out_with_a_sentence(llm: FakeLlm) -> None:
    hold = threading.Event()

    def script(handler: Handler, body: dict[str, Any]) -> None:
        hold.wait(5)

    llm.script = script
    started = time.monotonic()
    reply = await say(LlmBrain(llm.url, "m", timeout_s=0.5), "hi")
    hold.set()
    assert reply == [f"The language model at {llm.url} did not answer in time."]
    assert time.monotonic() - started < 3


async def test_stopping_early_keeps_what_was_said(llm: FakeLlm) -> None:
    release = threading.Event()

    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.start_sse()
        handler.send(chunk("This part was said. "))
        release.wait(5)
        handler.send(chunk("This part never was."))

    llm.script = script
    brain = LlmBrain(llm.url, "m")
    stream = brain.reply("talk")
    assert await stream.__anext__() == "This part was said."
    await stream.aclose()  # the user barged in
    release.set()
    assert brain.history[-1] == {"role": "assistant", "content": "This part was said."}


async def test_chunked_http11_streams_are_read(llm: FakeLlm) -> None:
    """Servers such as Ollama or llama.cpp answer HTTP/1.1 with chunked transfer encoding."""

    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        events = [chunk("Chunked "), chunk("streams work. "), chunk("Good."), b"data: [DONE]\n\n"]
        for event in events:
            for part in (event[:7], event[7:]):  # events split across chunks too
                handler.send(b"%x\r\n%s\r\n" % (len(part), part))
        handler.send(b"0\r\n\r\n")
        handler.close_connection = True

    llm.script = script
    assert await say(LlmBrain(llm.url, "m"), "hi") == ["Chunked streams work.", "Good."]


async def test_an_interrupted_reply_closed_late_keeps_the_history_in_order(llm: FakeLlm) -> None:
    release, asked = threading.Event(), threading.Event()

    def slow(handler: Handler, body: dict[str, Any]) -> None:
        handler.start_sse()
        asked.set()
        release.wait(5)

    llm.script = slow
    brain = LlmBrain(llm.url, "m", max_history=4)
    old = brain.reply("first question")
    pending = asyncio.ensure_future(old.__anext__())
    await eventually(asked.is_set, "the first request waiting for its model")
    llm.script = stream_words("Second answer.")
    assert await say(brain, "second question") == ["Second answer."]
    pending.cancel()  # the engine drops the old reply only now
    await asyncio.gather(pending, return_exceptions=True)
    await old.aclose()
    release.set()
    assert brain.history == [
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "Second answer."},
    ]


def hold_until_the_client_leaves(first: bytes | None, left: threading.Event) -> Any:
    """A script that sends the SSE head and ``first`` (or nothing at all, when None), then
    waits for the client to close the connection and sets ``left`` when it has."""

    def script(handler: Handler, body: dict[str, Any]) -> None:
        if first is not None:
            handler.start_sse()
            handler.send(first)
        handler.connection.settimeout(30)
        with contextlib.suppress(OSError):
            while handler.connection.recv(1024):
                pass
        left.set()

    return script


@pytest.mark.parametrize("first", [chunk("The first sentence is here. "), None],
                         ids=["mid-stream", "before-headers"])
async def test_cancelling_a_reply_closes_the_request_at_once(llm: FakeLlm, first: bytes | None) -> None:
    left = threading.Event()
    llm.script = hold_until_the_client_leaves(first, left)
    brain = LlmBrain(llm.url, "m", timeout_s=30)
    stream = brain.reply("talk")
    if first is not None:
        assert await stream.__anext__() == "The first sentence is here."
    pending = asyncio.ensure_future(stream.__anext__())
    while not llm.requests:  # the request has reached the model
        await asyncio.sleep(0.01)
    started = time.monotonic()
    pending.cancel()  # the engine drops the reply (a barge-in)
    await asyncio.gather(pending, return_exceptions=True)
    await stream.aclose()
    assert time.monotonic() - started < 1.0
    assert await asyncio.to_thread(left.wait, 5)  # the model's server saw the connection go
    assert time.monotonic() - started < 2.0  # not the 30 s read timeout


def test_without_httpx_the_llm_brain_is_refused_with_an_install_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # makes `import httpx` raise ImportError
    with pytest.raises(ValueError, match=r"^the llm brain needs httpx: pip install 'voicecli\[local\]'$"):
        LlmBrain("http://127.0.0.1:9", "m")
