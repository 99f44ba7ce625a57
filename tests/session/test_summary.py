"""The session summary: figures folded from events, its lines and its JSON record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecli.protocol.events import AudioFormat, Interruption, SessionStarted, TextDelta
from voicecli.session.events import Reconnected, SessionClosed, TextSent, TurnLatency
from voicecli.session.summary import SessionSummary, duration_text, percentile
from voicecli.session.transcript import Transcript

latencies = st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=50)


@settings(deadline=None)  # a shared, loaded machine: no per-example time limit
@given(latencies, st.floats(min_value=0, max_value=100))
def test_percentile_matches_linear_interpolation(values: list[float], q: float) -> None:
    got = percentile(values, q)
    assert got is not None
    assert abs(got - float(np.percentile(values, q))) <= 1e-6 * max(1.0, max(values))
    assert min(values) <= got <= max(values)


def test_no_replies_no_percentile() -> None:
    assert percentile([], 50) is None
    assert SessionSummary().lines()[1] == "reply latency: no replies measured"


def test_duration_text() -> None:
    assert [duration_text(s) for s in (0, 42.4, 185, 3725)] == ["0 s", "42 s", "3 min 05 s", "1 h 02 min"]


def test_events_fold_into_the_figures(tmp_path: Path) -> None:
    summary, transcript = SessionSummary(), Transcript()
    events = [SessionStarted(AudioFormat(), AudioFormat(), "s"),
              TextSent("hi"), TextDelta("hello", turn=1), TurnLatency(300, "text"),
              TextSent("again"), TextDelta("sure", turn=2), TurnLatency(500, "text"),
              Interruption(reason="user"), Interruption(turn=2),  # one cut, told twice
              Reconnected(attempt=1), TurnLatency(100, "text")]
    for event in events:
        transcript.apply(event)
        summary.apply(event)
    summary.count(transcript)
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    summary.add_recording(wav)
    summary.add_recording(tmp_path / "never-written.wav")  # no audio came: not listed
    summary.apply(SessionClosed(reason="network", error="lost", exit_code=6))
    summary.finish(SessionClosed(reason="later"))  # the first end wins
    record = summary.as_record()
    assert (record["user_turns"], record["agent_turns"], record["interruptions"], record["reconnects"]) == (2, 2, 1, 1)
    assert record["reply_ms"] == [300, 500, 100] and record["reply_p50_ms"] == 300 and record["reply_p95_ms"] == 480
    assert record["end_reason"] == "network" and record["exit_code"] == 6
    lines = summary.lines()
    assert lines[0].endswith("2 user turns · 2 agent turns · 1 interruption · 1 reconnect")
    assert lines[1] == "reply latency p50 300 ms · p95 480 ms (3 replies)"
    assert lines[2:] == [f"recording saved to {wav}"]
