"""Fixtures for scenario tests: a fast local agent (tone voice, echo brain, no greeting) and
the real console command (from the CLI tests)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import TEST_KEY, Cli, cli  # noqa: F401 - the fixture, shared
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """Its replies on a virtual clock (the same frames and events, no waiting)."""
    url, stop = start_in_thread(AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="",
                                            speech=False, brain="echo", speed=math.inf))
    yield url
    stop()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
