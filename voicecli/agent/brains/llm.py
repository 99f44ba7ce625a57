"""The LLM brain: any OpenAI-compatible ``/v1/chat/completions`` endpoint, streamed.

The request is streamed with httpx on the event loop (httpx comes with the ``local`` extra;
without it the brain is refused at start with a one-line install notice). Its Server-Sent
Events are parsed as they arrive and the reply is yielded sentence by sentence, so speech
synthesis can start on the first sentence while the model is still writing the rest.
Closing or cancelling the reply (a barge-in) closes the HTTP stream at once. Failures
(server down, HTTP error, timeout, error event) become one spoken-style sentence; nothing
is raised to the caller.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from voicecli.agent.voice_contracts import BaseBrain
from voicecli.pcm.sentences import SentenceChunker

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a friendly voice assistant. Your replies are read aloud by a speech synthesizer, "
    "so answer in one to three short, plain sentences: no lists, no markdown, no emoji."
)
_MARKUP = re.compile(r"[*`#]+|^\s*[-•]\s+")

Event = tuple[str, str]  # ("delta" | "error" | "done", text)
INSTALL_NOTICE = "the llm brain needs httpx: pip install 'voicecli[local]'"


def chat_url(url: str) -> str:
    """The chat-completions URL for a server root, a ``/v1`` base or the full endpoint."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return f"{url}/chat/completions"
    return f"{url}/v1/chat/completions"


class _ThinkFilter:
    """Drops ``<think>…</think>`` reasoning that some local models stream before the answer."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> str:
        self._buffer += text
        out = ""
        while True:
            tag = self.CLOSE if self._inside else self.OPEN
            at = self._buffer.find(tag)
            if at >= 0:
                if not self._inside:
                    out += self._buffer[:at]
                self._buffer = self._buffer[at + len(tag) :]
                self._inside = not self._inside
                continue
            keep = next((n for n in range(len(tag) - 1, 0, -1) if self._buffer.endswith(tag[:n])), 0)
            if not self._inside:
                out += self._buffer[: len(self._buffer) - keep]
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return out

    def flush(self) -> str:
        rest, self._buffer = ("" if self._inside else self._buffer), ""
        return rest


class LlmBrain(BaseBrain):
    """A :class:`~voicecli.agent.voice_contracts.Brain` backed by an OpenAI-compatible chat model.

    ``url`` may be the server root (``http://127.0.0.1:11434``), its ``/v1`` base or the full
    ``…/v1/chat/completions`` endpoint. The API key, if any, is read from the environment
    variable named by ``api_key_env`` and sent as a bearer token.
    """

    name = "llm"

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key_env: str | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        greeting: str | None = "Hello! How can I help you?",
        timeout_s: float = 30.0,
        max_history: int = 20,
        temperature: float | None = None,
    ) -> None:
        try:
            import httpx  # noqa: F401 - only checked here, used per reply
        except ImportError:
            raise ValueError(INSTALL_NOTICE) from None
        self.url = chat_url(url)
        parts = urlsplit(self.url)
        self.server = f"{parts.scheme}://{parts.netloc}"
        self.model = model
        self.api_key_env = api_key_env
        self.system_prompt = system_prompt
        self.timeout_s = timeout_s
        self.max_history = max_history
        self.temperature = temperature
        self._greeting = greeting
        self.history: list[dict[str, str]] = []

    def greeting(self) -> str | None:
        return self._greeting

    def configure(self, prompt: str | None = None, language: str | None = None) -> None:
        """A client's overrides: ``prompt`` replaces the system prompt; ``language`` (a
        code such as ``es``) asks the model to answer in it."""
        if prompt:
            self.system_prompt = prompt
        if language:
            self.system_prompt += f" Always answer in the language whose code is {language!r}."

    def reset(self) -> None:
        self.history.clear()

    async def reply(self, user_text: str) -> AsyncGenerator[str, None]:
        question = {"role": "user", "content": user_text}
        self.history.append(question)
        messages = [{"role": "system", "content": self.system_prompt}, *self.history[-self.max_history :]]
        chunker, think = SentenceChunker(), _ThinkFilter()
        said: list[str] = []
        try:
            async with contextlib.aclosing(self._events(messages)) as events:
                async for kind, text in events:
                    if kind == "delta":
                        pieces = chunker.feed(think.feed(text))
                    else:
                        pieces = chunker.feed(think.flush()) + chunker.flush()
                    for piece in pieces:
                        sentence = _for_speech(piece)
                        if sentence:
                            said.append(sentence)
                            yield sentence
                    if kind == "error":
                        yield text
                    if kind != "delta":
                        if kind == "done" and not said:
                            yield "The language model gave an empty answer."
                        break
        finally:
            self._remember(question, said)

    def _remember(self, question: dict[str, str], said: list[str]) -> None:
        """Pair the answer with its question (a newer question may already follow it when an
        interrupted reply is closed late); an unanswered question is forgotten."""
        at = next((i for i, m in enumerate(self.history) if m is question), None)
        if at is None:
            return
        if said:
            self.history.insert(at + 1, {"role": "assistant", "content": " ".join(said)})
        else:
            del self.history[at]
        del self.history[: -self.max_history]

    # -- the HTTP side -------------------------------------------------------------------

    async def _events(self, messages: list[dict[str, str]]) -> AsyncGenerator[Event, None]:
        """The model's text deltas, then ``("done", "")`` or ``("error", sentence)``."""
        import httpx

        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        headers = {"Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        error: str | None = None
        try:
            async with (httpx.AsyncClient(timeout=self.timeout_s) as client,
                        client.stream("POST", self.url, json=body, headers=headers) as response):
                if response.status_code >= 400:
                    error = self._http_error(response.status_code, response.reason_phrase)
                elif "text/event-stream" in response.headers.get("content-type", ""):
                    async for payload in _sse_data(response.aiter_lines()):
                        if payload.strip() == "[DONE]":
                            break
                        deltas, error = _dispatch(payload)
                        for delta in deltas:
                            yield "delta", delta
                        if error:
                            break
                else:  # a server that ignored ``stream: true`` and sent one JSON answer
                    deltas, error = _dispatch((await response.aread()).decode("utf-8", "replace"))
                    for delta in deltas:
                        yield "delta", delta
        except httpx.TimeoutException as exc:
            error = f"The language model at {self.server} did not answer in time."
            log.warning("llm %s: %r", self.url, exc)
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            error = f"I can't reach the language model at {self.server}."
            log.warning("llm %s: %r", self.url, exc)
        yield ("error", error) if error else ("done", "")

    def _http_error(self, status: int, reason: str) -> str:
        log.warning("llm %s: HTTP %s %s", self.url, status, reason)
        hint = {401: " Check the API key.", 403: " Check the API key.", 404: " Check the URL and the model name."}
        return f"The language model at {self.server} answered with an error, HTTP {status}.{hint.get(status, '')}"


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each Server-Sent Event (its ``data:`` lines joined), as events complete."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            payload, data = "\n".join(data), []
            yield payload
        # anything else: comments, event names, ids, or a stray blank line
    if data:
        yield "\n".join(data)


def _dispatch(payload: str) -> tuple[list[str], str | None]:
    """One event's text deltas, and an error sentence when it carried an error."""
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        log.debug("llm: ignoring a malformed event: %.200s", payload)
        return [], None
    if not isinstance(event, dict):
        return [], None
    if event.get("error"):
        return [], _error_sentence(event["error"])
    deltas: list[str] = []
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or choice.get("message") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
        if not isinstance(text, str):
            text = choice.get("text")
        if isinstance(text, str) and text:
            deltas.append(text)
    return deltas, None


def _error_sentence(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    log.warning("llm: the model reported an error: %s", message)
    return f"The language model reported an error: {str(message).rstrip('.')}."


def _for_speech(sentence: str) -> str:
    """Drop markdown that a synthesizer would read out or stumble on."""
    return " ".join(_MARKUP.sub("", sentence).split())
