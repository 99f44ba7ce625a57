"""`voicecli smoke` keeps each agent reply on the scripted turn that asked for it when the
agent splits one clip into two utterances or merges two clips into one; a turn with no
reply says so. Real console command, real local agent (tone voice, echo brain)."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.cli.conftest import NO_GREETING, TEST_KEY, Cli
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread
from voicecli.cli.smoke import _print_human, trailing_silence_s
from voicecli.cli.smoke_report import SmokeReport, TurnReport
from voicecli.errors import SessionTimeout

RATE = 16000


def clip(path: Path, *parts: tuple[str, float]) -> Path:
    """A 16 kHz WAV of ("tone", s) and ("silence", s) parts in order."""
    pieces = []
    for kind, seconds in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        pieces.append(0.4 * np.sin(2 * np.pi * 440 * t) if kind == "tone" else np.zeros(t.size))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes((np.concatenate(pieces) * 32767).astype("<i2").tobytes())
    return path



@pytest.fixture(scope="module")
def quick_agent() -> Iterator[str]:
    """Ends a user turn after 600 ms of silence: a longer pause splits an utterance."""
    url, stop = start_in_thread(AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="",
                                            speech=False, brain="echo", vad_hangover_ms=600))
    yield url
    stop()


@pytest.fixture(scope="module")
def patient_agent() -> Iterator[str]:
    """Waits 3 s of silence before it answers: clips 1.5 s apart are one utterance to it."""
    url, stop = start_in_thread(AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="",
                                            speech=False, brain="echo", vad_hangover_ms=3000))
    yield url
    stop()


@pytest.mark.realtime  # the agent's silence detection runs on the clips as they play
def test_an_utterance_the_agent_splits_reports_both_replies_on_its_turn(
        cli: Cli, quick_agent: str, tmp_path: Path) -> None:
    split = clip(tmp_path / "split.wav", ("tone", 0.6), ("silence", 2.5), ("tone", 0.6))
    single = clip(tmp_path / "single.wav", ("tone", 0.6), ("silence", 0.2))
    proc, report = cli.smoke_json(*NO_GREETING, "--url", quick_agent, "--agent", "agent_1", "--sample-rate", "16000",
                                  "--audio", str(split), "--audio", str(single), timeout=60)
    assert proc.returncode == 0, proc.stderr
    first, second = report["turns"]
    assert len(first["replies"]) == 2, first
    assert all("i heard you" in reply.lower() for reply in first["replies"]), first
    assert first["agent_transcript"] == " ".join(first["replies"])
    assert not first["no_reply"]
    assert len(second["replies"]) == 1 and "i heard you" in second["replies"][0].lower(), second
    assert not second["no_reply"]


@pytest.mark.realtime  # the agent's silence detection runs on the clips as they play
def test_clips_the_agent_merges_report_one_reply_and_no_reply(cli: Cli, patient_agent: str,
                                                               tmp_path: Path) -> None:
    first_clip = clip(tmp_path / "one.wav", ("tone", 0.6))
    # trailing silence: the agent's 3 s of patience runs out while the clip still plays
    second_clip = clip(tmp_path / "two.wav", ("tone", 0.6), ("silence", 2.6))
    args = (*NO_GREETING, "--url", patient_agent, "--agent", "agent_1", "--sample-rate", "16000", "--reply-wait", "1.5",
            "--audio", str(first_clip), "--audio", str(second_clip))
    proc, report = cli.smoke_json(*args, timeout=60)
    first, second = report["turns"]
    assert first["no_reply"] is True and first["replies"] == [] and first["agent_transcript"] == "", first
    assert second["no_reply"] is False and len(second["replies"]) == 1, second
    assert "i heard you" in second["replies"][0].lower()
    assert proc.returncode == SessionTimeout.exit_code and report["error"] == "no reply to turn 1"


def test_human_output_lists_replies_and_says_no_reply(capsys: pytest.CaptureFixture[str]) -> None:
    report = SmokeReport(dialect="atoms", url="ws://127.0.0.1:1/x", turns=[
        TurnReport(1, "audio", "a.wav"),
        TurnReport(2, "audio", "b.wav", replies=["Sorry?", "It is 4."], no_reply=False),
        TurnReport(3, "text", "hi", replies=["Hello."], no_reply=False)])
    _print_human(report)
    lines = capsys.readouterr().out.splitlines()

    def at(head: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(head))

    assert lines[at("turn 1 [audio] a.wav") + 2] == "  agent: no reply"
    assert lines[at("turn 2 [audio] b.wav") + 2: at("turn 2 [audio] b.wav") + 4] == [
        "  agent (1/2): Sorry?", "  agent (2/2): It is 4."]
    assert lines[at("turn 3 [text] hi") + 2] == "  agent: Hello."


def test_trailing_silence_of_a_clip() -> None:
    samples = np.concatenate([np.zeros(1600), 0.3 * np.ones(3200), np.zeros(8000)]).astype(np.float32)
    assert trailing_silence_s(samples, RATE) == pytest.approx(0.5, abs=0.02)
    assert trailing_silence_s(np.zeros(1600, dtype=np.float32), RATE) == pytest.approx(0.1)
    assert trailing_silence_s(np.ones(1600, dtype=np.float32), RATE) == 0.0
