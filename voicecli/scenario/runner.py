"""Running one scenario file over an adapter: its turns become the turn engine's steps
(:mod:`voicecli.scenario.conversation`, the engine of ``voicecli smoke``), the session's
figures become a :class:`~voicecli.scenario.results.ScenarioResult`, scored by
:mod:`voicecli.scenario.expectations`.

Inputs are prepared before connecting: ``audio`` files are read in full and ``say`` text is
spoken by the offline voice (once per text, :mod:`voicecli.scenario.voice`). A turn that
expects no reply waits ``reply_wait_s`` (default 3 s) for one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voicecli.audio.audiofile import load_clip
from voicecli.audio.scripted import ScriptedBackend
from voicecli.errors import VoicecliError
from voicecli.protocol.base import Adapter
from voicecli.scenario import recording
from voicecli.scenario.conversation import SmokeRunner, Step
from voicecli.scenario.expectations import score
from voicecli.scenario.loader import ScenarioError, ScenarioFile
from voicecli.scenario.model import Turn
from voicecli.scenario.results import ScenarioResult
from voicecli.scenario.voice import speak
from voicecli.session import Session, SessionOptions
from voicecli.session.options import MicEncoder

NO_REPLY_WAIT_S = 3.0


def steps_for(file: ScenarioFile) -> list[Step]:
    """The engine's steps for a scenario's turns; an unreadable audio file is a
    :class:`ScenarioError` naming the scenario and the turn."""
    return [_step(file, number, turn) for number, turn in enumerate(file.scenario.turns, 1)]


def _step(file: ScenarioFile, number: int, turn: Turn) -> Step:
    reply_wait = turn.reply_wait_s or file.scenario.settings.reply_wait_s
    if turn.expect.no_reply and reply_wait is None:
        reply_wait = NO_REPLY_WAIT_S
    common: dict[str, Any] = {"needs_reply": turn.needs_reply, "barge_in_after": turn.barge_in_after,
                              "reply_wait": reply_wait}
    if turn.say is not None:
        return Step("say", turn.say, clip=speak(turn.say), **common)
    if turn.audio is not None:
        path = file.resolve(turn.audio)
        try:
            clip = load_clip(path)
        except VoicecliError as exc:
            raise ScenarioError(f"{file.path}: turn {number}: audio: {exc}") from None
        return Step("audio", str(path), clip=clip, **common)
    if turn.text is not None:
        return Step("text", turn.text, **common)
    if turn.silence is not None:
        return Step("silence", f"{turn.silence:g} s", seconds=turn.silence, **common)
    return Step("wait", turn.wait_for or "", seconds=turn.timeout_s, **common)


def client_tools(results: Mapping[str, Any]) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """Tool handlers that answer every call of a tool with its scripted result."""
    def answer(value: Any) -> Callable[[Mapping[str, Any]], Any]:
        return lambda _arguments: value

    return {name: answer(value) for name, value in results.items()}


async def run_scenario(file: ScenarioFile, adapter: Adapter, *, steps: list[Step] | None = None,
                       allow_insecure: bool = False, record_to: Path | None = None,
                       keep: Callable[[ScenarioResult], bool] = lambda result: not result.ok,
                       backend: ScriptedBackend | None = None,
                       lean_mic: MicEncoder | None = None) -> ScenarioResult:
    """Hold the scenario's conversation over ``adapter`` and score it. With ``record_to``,
    the conversation is kept there when ``keep(result)`` (by default: when it failed).
    ``backend``: the scripted audio (default: one that records both directions);
    ``lean_mic``: the session's lean microphone (load sessions, ``SessionOptions.lean_mic``)."""
    scenario = file.scenario
    settings = scenario.settings
    steps = steps if steps is not None else steps_for(file)
    backend = backend if backend is not None else recording.RecordingBackend(realtime=True)
    options = SessionOptions(allow_insecure=allow_insecure, open_timeout=min(settings.timeout_s, 10.0),
                             ready_timeout=min(settings.timeout_s, 15.0),
                             client_tools=client_tools(scenario.client_tools), lean_mic=lean_mic)
    session = Session(adapter, backend, options)
    runner = SmokeRunner(session, backend, steps, None, greeting_wait_s=settings.greeting_wait_s,
                         reply_wait=settings.reply_wait_s)
    started = time.monotonic()
    report = await runner.run_within(settings.timeout_s)
    closed = runner.closed or session.closed
    result = ScenarioResult.from_report(
        scenario.name, str(file.path), report, tool_calls=runner.tool_calls, events=runner.events_seen,
        server_errors=runner.errors, clean_close=runner.closed_by_us and (closed is None or not closed.error))
    result.duration_s = round(time.monotonic() - started, 3)
    score(scenario, result)
    if record_to is not None and isinstance(backend, recording.RecordingBackend) and keep(result):
        folder = record_to / _slug(file.path)
        result.recording = str(folder)
        recording.save(folder, backend, result.to_dict())
    return result


def _slug(path: Path) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in path.with_suffix("").as_posix()).strip("_.")
