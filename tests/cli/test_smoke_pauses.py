"""`voicecli smoke` waits for a reply that stops mid-sentence and resumes (a starved or
buffering speech service: the connection stays up, pings are answered), instead of taking
the pause for the reply's end and cutting the rest with the next turn. Real local agent with
the ``pause`` fault on every connection, real console command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import NO_GREETING, Cli
from tests.cli.test_smoke_dialects import KEY, KEY_ENVS, profile
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

PAUSE = "pause:2500@5"  # a few frames into the first reply: 2.5 s of nothing, then the rest


@pytest.fixture(scope="module")
def pausing_url() -> Iterator[str]:
    url, stop = start_in_thread(AgentConfig(api_key=KEY, greeting="", speech=False, brain="echo", faults=PAUSE))
    yield url
    stop()


@pytest.mark.parametrize("dialect", ["elevenlabs", "atoms", "voiceagent"])
def test_a_reply_that_pauses_mid_sentence_is_one_reply(cli: Cli, pausing_url: str, tmp_path: Path,
                                                       dialect: str) -> None:
    first = "one two three four five six seven eight nine ten"
    proc, report = cli.smoke_json(*NO_GREETING, *profile(tmp_path, dialect, pausing_url), "--text", first,
                                  "--text", "thank you", extra_env=KEY_ENVS, timeout=60)
    assert proc.returncode == 0, proc.stderr
    one, two = report["turns"]
    assert not one["interrupted"] and len(one["replies"]) == 1, one
    assert one["agent_transcript"].lower().rstrip(".").endswith(first), one
    assert not two["interrupted"] and "thank you" in two["agent_transcript"].lower(), two
