"""``/record`` and ``/export`` in the app against the local agent (Pilot): one recording at a
time, ``/record off`` and ``/record stop`` stop it (never a folder named so), ``app.recording``
follows, and the export and the JSONL end record carry the session summary."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import pytest

from voicecli.agent.config import AgentConfig
from voicecli.audio.scripted import ScriptedBackend
from voicecli.session.recording import Recordings
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.commands import parse_slash

from .conftest import SIZE, local_factory, submit, texts, wait_until


def test_record_takes_a_directory_or_off_or_stop() -> None:
    assert parse_slash("/record off").argument == "off"
    assert parse_slash("/record  STOP ").argument == "STOP"
    assert parse_slash("/record ~/calls").argument == "~/calls"


async def _say(app, pilot, line: str) -> str:
    before = len(texts(app))
    await submit(pilot, line)  # typing is tested elsewhere: key by key here took most of the time
    await wait_until(pilot, lambda: len(texts(app)) > before, what=f"an answer to {line}")
    return texts(app)[-1]


async def test_one_recording_at_a_time_and_off_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    recordings = Recordings()
    config = AgentConfig(api_key=None, greeting="", speech=False, brain="rules")
    settings = TalkSettings(dialect="atoms", transcript_path=tmp_path / "t.jsonl", recorder=recordings)
    backend = ScriptedBackend()
    app = create_app(local_factory(config, backend), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started and backend.capture is not None, what="session start")
        assert app.recording is None
        first = await _say(app, pilot, "/record one")
        assert app.recording is not None and app.recording.parent == Path("one")
        assert str(app.recording) in first and first.endswith(f"recording to {app.recording}")
        a = app.recording
        await pilot.pause(0.3)  # mic frames reach the file
        second = await _say(app, pilot, "/record two")
        b = app.recording
        assert b is not None and b.parent == Path("two")
        assert f"recording stopped: {a}; recording to {b}" in second  # both files named
        await pilot.pause(0.3)
        stopped = await _say(app, pilot, "/record off")
        assert app.recording is None and f"recording stopped: {b}" in stopped
        assert "not recording" in await _say(app, pilot, "/record stop")
        await submit(pilot, "/quit")
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert not (tmp_path / "off").exists() and not (tmp_path / "stop").exists()
    assert recordings.files == [a, b]
    for path in (tmp_path / a, tmp_path / b):
        with wave.open(str(path)) as wav:
            assert wav.getnchannels() == 2 and wav.getnframes() > 0
    end = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[-1])
    assert end["type"] == "end" and end["summary"]["recordings"] == [str(a), str(b)]


async def test_export_has_a_dated_title_and_the_summary(tmp_path: Path) -> None:
    config = AgentConfig(api_key=None, greeting="", speech=False, brain="rules")
    settings = TalkSettings(dialect="atoms", agent="local", transcript_path=tmp_path / "t.jsonl")
    app = create_app(local_factory(config, ScriptedBackend()), settings)
    out = tmp_path / "talk.md"
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started, what="session start")
        await submit(pilot, "what is 12 + 7")
        await wait_until(pilot, lambda: any("19" in t for t in texts(app)), what="the reply")
        await _say(app, pilot, f"/export {out}")
        await submit(pilot, "/quit")
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    text = out.read_text()
    assert re.match(r"# voicecli talk — local — \d{4}-\d\d-\d\d \d\d:\d\d\n", text), text[:80]
    assert "**You**" in text and "## Summary" in text
    assert re.search(r"^- \d+ s · 1 user turn · 1 agent turn$", text, re.M), text
    assert re.search(r"^- reply latency p50 \d+ ms · p95 \d+ ms \(1 reply\)$", text, re.M), text
    end = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[-1])
    summary = end["summary"]
    assert summary["user_turns"] == 1 and summary["agent_turns"] == 1 and len(summary["reply_ms"]) == 1
    assert summary["reply_p50_ms"] == summary["reply_p95_ms"] == summary["reply_ms"][0]
    assert summary["transcript"] == str(tmp_path / "t.jsonl") and summary["exit_code"] == 0
