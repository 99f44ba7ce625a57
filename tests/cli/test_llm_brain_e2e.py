"""The local agent's `llm` brain through the whole client: a fake OpenAI-compatible server
streams the reply, the agent speaks it sentence by sentence; with the endpoint down the
agent says so instead of failing."""

from __future__ import annotations

import contextlib
import math
import socket

from tests.agent_speech.fake_llm import running, stream_words
from tests.cli.conftest import NO_GREETING, TEST_KEY, Cli
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread


def agent_with_llm(url: str) -> tuple[str, object]:
    """Its replies on a virtual clock (the same frames, no waiting): nothing here is timed."""
    return start_in_thread(AgentConfig(api_key=TEST_KEY, greeting="", speech=False, brain="llm",
                                       brain_options={"url": url, "model": "tiny"}, speed=math.inf))


def test_streamed_llm_reply_is_spoken(cli: Cli) -> None:
    with contextlib.contextmanager(running)() as llm:
        llm.script = stream_words("Paris is the capital of France. It is lovely in spring.")
        url, stop = agent_with_llm(llm.url)
        try:
            proc, report = cli.smoke_json(*NO_GREETING, "--url", url, "--agent", "a", "--text", "capital of France?")
        finally:
            stop()  # type: ignore[operator]
    assert proc.returncode == 0, proc.stderr
    turn = report["turns"][0]
    assert turn["agent_transcript"] == "Paris is the capital of France. It is lovely in spring."
    assert turn["agent_audio_s"] > 1.0
    body = llm.requests[-1]["body"]
    assert body["model"] == "tiny" and body["stream"] is True
    assert body["messages"][-1] == {"role": "user", "content": "capital of France?"}


def test_llm_endpoint_down_is_said_not_crashed(cli: Cli) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url, stop = agent_with_llm(f"http://127.0.0.1:{port}")
    try:
        proc, report = cli.smoke_json(*NO_GREETING, "--url", url, "--agent", "a", "--text", "hello")
    finally:
        stop()  # type: ignore[operator]
    assert proc.returncode == 0, proc.stderr
    said = report["turns"][0]["agent_transcript"]
    assert said.startswith(f"I can't reach the language model at http://127.0.0.1:{port}"), said
