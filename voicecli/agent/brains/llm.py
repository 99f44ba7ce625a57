"""The LLM brain: any OpenAI-compatible ``/v1/chat/completions`` endpoint, streamed.

The request runs on a daemon thread with ``urllib`` (no extra dependencies); its Server-Sent
Events are parsed as they arrive and the reply is yielded sentence by sentence, so speech
synthesis can start on the first sentence while the model is still writing the rest.
Failures (server down, HTTP error, timeout, error event) become one spoken-style sentence;
nothing is raised to the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncGenerator, Callable
from typing import Any
from urllib.parse import urlsplit

from voicecli.pcm.sentences import SentenceChunker

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a friendly voice assistant. Your replies are read aloud by a speech synthesizer, "
    "so answer in one to three short, plain sentences: no lists, no markdown, no emoji."
)
_MARKUP = re.compile(r"[*`#]+|^\s*[-•]\s+")

Event = tuple[str, str]  # ("delta" | "error" | "done", text)


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


class LlmBrain:
    """A :class:`~voicecli.agent.interfaces.Brain` backed by an OpenAI-compatible chat model.

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
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue()
        cancelled = threading.Event()

        def put(kind: str, text: str) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, text))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                cancelled.set()

        worker = threading.Thread(target=self._request, args=(messages, put, cancelled), name="llm-brain", daemon=True)
        worker.start()
        chunker, think = SentenceChunker(), _ThinkFilter()
        said: list[str] = []
        try:
            while True:
                kind, text = await queue.get()
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
            cancelled.set()
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

    # -- the HTTP side, on the worker thread ----------------------------------------------

    def _request(
        self, messages: list[dict[str, str]], put: Callable[[str, str], None], cancelled: threading.Event
    ) -> None:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's own setting
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                if "text/event-stream" in response.headers.get("Content-Type", ""):
                    error = _read_events(response, put, cancelled)
                else:
                    error = _read_whole(response.read(), put)
        except urllib.error.HTTPError as exc:
            error = f"The language model at {self.server} answered with an error, HTTP {exc.code}."
            error += {
                401: " Check the API key.",
                403: " Check the API key.",
                404: " Check the URL and the model name.",
            }.get(exc.code, "")
            log.warning("llm %s: HTTP %s %s", self.url, exc.code, exc.reason)
        except TimeoutError as exc:
            error = f"The language model at {self.server} did not answer in time."
            log.warning("llm %s: %s", self.url, exc)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                error = f"The language model at {self.server} did not answer in time."
            else:
                error = f"I can't reach the language model at {self.server}."
            log.warning("llm %s: %s", self.url, exc)
        if error:
            put("error", error)
        else:
            put("done", "")


def _read_events(response: Any, put: Callable[[str, str], None], cancelled: threading.Event) -> str | None:
    """Parse an SSE stream; returns an error sentence when the stream carried an error."""
    data: list[str] = []
    for raw in response:
        if cancelled.is_set():
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
            continue
        if line or not data:
            continue  # comments, event names, ids, or a stray blank line
        payload, data = "\n".join(data), []
        if payload.strip() == "[DONE]":
            return None
        error = _dispatch(payload, put)
        if error:
            return error
    if data and data[-1].strip() != "[DONE]":
        return _dispatch("\n".join(data), put)
    return None


def _dispatch(payload: str, put: Callable[[str, str], None]) -> str | None:
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        log.debug("llm: ignoring a malformed event: %.200s", payload)
        return None
    if not isinstance(event, dict):
        return None
    if event.get("error"):
        return _error_sentence(event["error"])
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or choice.get("message") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
        if not isinstance(text, str):
            text = choice.get("text")
        if isinstance(text, str) and text:
            put("delta", text)
    return None


def _read_whole(body: bytes, put: Callable[[str, str], None]) -> str | None:
    """A server that ignored ``stream: true`` and sent one JSON answer."""
    return _dispatch(body.decode("utf-8", "replace"), put)


def _error_sentence(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    log.warning("llm: the model reported an error: %s", message)
    return f"The language model reported an error: {str(message).rstrip('.')}."


def _for_speech(sentence: str) -> str:
    """Drop markdown that a synthesizer would read out or stumble on."""
    return " ".join(_MARKUP.sub("", sentence).split())
