"""``voicecli smoke``: a scripted, headless conversation for CI probes.

Every input is checked before connecting (:mod:`voicecli.cli.checks`; audio clips are read
in full). Turns run in order: every ``--text`` first, then every ``--audio`` clip, through
the turn engine in :mod:`voicecli.scenario.conversation` (how a turn waits for its reply,
``--interrupt-after`` barge-in, ``--reply-wait`` and ``no_reply``, and the verdict that
never passes falsely are described there). With ``--retries N``, transient failures before
the first turn (refused, HTTP 503, a lost connection during the greeting) are retried, each
one reported as a warning; once the first turn starts, a failure ends the run with its exit
code, never retried.

``VOICECLI_SCRIPTED_SPEED`` (default 1) runs the scripted microphone and speaker that many
times faster than real time (:class:`voicecli.audio.scripted.ScriptedBackend`): for test runs
that do not measure timing; the reported figures are then not real-time figures.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from voicecli.audio.audiofile import load_clip
from voicecli.audio.scripted import ScriptedBackend
from voicecli.audio.wav import write_wav
from voicecli.cli import checks
from voicecli.cli.common import endpoint, setup_logging
from voicecli.cli.config import parse_vars, resolve
from voicecli.cli.output import print_error, print_json, print_notice
from voicecli.errors import EXIT_INTERRUPTED, ExpectationFailed, UsageError, VoicecliError
from voicecli.scenario.attribution import SmokeReport
from voicecli.scenario.conversation import (  # noqa: F401 - re-exported for callers of smoke
    GREETING_WAIT_S,
    IDLE_S,
    SmokeRunner,
    Step,
    trailing_silence_s,
)
from voicecli.secrets import redact
from voicecli.session import Session, SessionOptions
from voicecli.session.reconnect import ReconnectSettings, user_backoff


async def run_smoke(target: Any, steps: list[Step], *, timeout: float, allow_insecure: bool,
                    interrupt_after: float | None, out: Path | None, idle_s: float = IDLE_S,
                    greeting_wait_s: float = GREETING_WAIT_S,
                    retries: ReconnectSettings | None = None, reply_wait: float | None = None,
                    speed: float = 1.0) -> SmokeReport:
    async with endpoint(target) as ep:
        backend = ScriptedBackend(realtime=True, speed=speed)
        options = SessionOptions(allow_insecure=allow_insecure, open_timeout=min(timeout, 10.0),
                                 ready_timeout=min(timeout, 15.0), reconnect=retries)
        session = Session(ep.adapter, backend, options)
        runner = SmokeRunner(session, backend, steps, interrupt_after, idle_s, greeting_wait_s, reply_wait)
        report = await runner.run_within(timeout)
        if out is not None and backend.playback is not None:
            save_audio(out, backend.playback.pcm(), backend.playback.rate)
        return report


SPEED_ENV = "VOICECLI_SCRIPTED_SPEED"


def scripted_speed() -> float:
    """The scripted audio's pace against real time, from ``VOICECLI_SCRIPTED_SPEED`` (1.0)."""
    text = os.environ.get(SPEED_ENV, "").strip()
    if not text:
        return 1.0
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not 0 < speed < float("inf"):
        raise UsageError(f"{SPEED_ENV} must be a number more than 0; got {text!r}")
    return speed


def save_audio(out: Path, pcm: bytes, rate: int) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_wav(out, pcm, rate)
    except OSError as exc:
        raise UsageError(f"cannot write --out {out}: {exc.strerror or exc.__class__.__name__}") from None


def _print_human(report: SmokeReport) -> None:
    def fmt(value: float | None, unit: str = " ms") -> str:
        return "-" if value is None else f"{value:g}{unit}"

    if not report.url:
        return  # never connected: the error line on stderr says it all
    print(f"{report.dialect} {report.url}")
    print(f"  connect {fmt(report.connect_ms)}, session ready {fmt(report.session_ready_ms)}"
          + (f", session {report.session_id}" if report.session_id else ""))
    if report.greeting:
        print(f"  greeting: {report.greeting}")
    for turn in report.turns:
        flag = (" (interrupted)" if turn.interrupted else "") + ("" if turn.answered else " (not answered)")
        print(f"turn {turn.index} [{turn.input}] {turn.content}{flag}")
        print(f"  first audio {fmt(turn.first_audio_ms)}, reply done {fmt(turn.reply_ms)}, "
              f"agent audio {turn.agent_audio_s:g} s")
        if turn.user_transcript:
            print(f"  you:   {turn.user_transcript}")
        if turn.no_reply:
            print("  agent: no reply")
        elif len(turn.replies) == 1:
            print(f"  agent: {turn.replies[0]}")
        for number, said in enumerate(turn.replies if len(turn.replies) > 1 else [], 1):
            print(f"  agent ({number}/{len(turn.replies)}): {said}")
    print("ok" if report.ok else f"failed: {report.error}")


def smoke_command(
    *, text: list[str] | None, audio: list[Path] | None, profile: str | None, url: str | None, dialect: str | None,
    agent: str | None, var: list[str] | None, sample_rate: int | None, expect: str | None, out: Path | None,
    json_out: bool, timeout: float, interrupt_after: float | None, reply_wait: float | None,
    greeting_wait: float | None, allow_insecure: bool, config: str | None, retries: int, retry_delay: float,
) -> int:
    """The work of ``voicecli smoke`` (its options are in :mod:`voicecli.cli.commands`)."""
    setup_logging()
    report: SmokeReport | None = None
    try:
        pattern = _compile(expect)
        timeout = checks.seconds("--timeout", timeout) or timeout
        checks.seconds("--interrupt-after", interrupt_after, zero_ok=True)
        checks.sample_rate(sample_rate)
        checks.writable_file("--out", out)
        steps = [Step("text", t) for t in checks.texts(text or [])]
        steps += [Step("audio", str(a), load_clip(a)) for a in audio or []]
        if not steps:
            steps = [Step("text", "hello")]
        checks.seconds("--reply-wait", reply_wait)
        greeting_wait = checks.seconds("--greeting-wait", greeting_wait, zero_ok=True)
        try:
            redial = ReconnectSettings(user_backoff(retries, retry_delay), first_connection=True) if retries else None
        except ValueError as exc:
            raise UsageError(f"--retries/--retry-delay: {exc}") from None
        speed = scripted_speed()
        target = resolve(profile=profile, url=url, dialect=dialect, agent=agent, sample_rate=sample_rate,
                         variables=parse_vars(var or []), config_file=config)
        report = asyncio.run(run_smoke(target, steps, timeout=timeout, allow_insecure=allow_insecure,
                                       interrupt_after=interrupt_after, out=out, retries=redial,
                                       reply_wait=reply_wait, speed=speed,
                                       greeting_wait_s=GREETING_WAIT_S if greeting_wait is None else greeting_wait))
        if report.ok and pattern is not None:
            said = "\n".join(filter(None, [report.greeting] + [t.agent_transcript for t in report.turns]))
            if not pattern.search(said):
                raise ExpectationFailed(f"the agent's transcript does not match {expect!r}")
    except VoicecliError as exc:
        report = report or SmokeReport(dialect=dialect or "")
        report.ok, report.error, report.exit_code = False, redact(str(exc)), exc.exit_code
    except KeyboardInterrupt:
        report = report or SmokeReport(dialect=dialect or "")
        report.ok, report.error, report.exit_code = False, "interrupted", EXIT_INTERRUPTED
    if json_out:
        print_json(asdict(report))
    else:
        _print_human(report)
    for warning in report.warnings:
        print_notice(f"warning: {warning}")
    if report.error:
        print_error(report.error)
    return report.exit_code


def _compile(expect: str | None) -> re.Pattern[str] | None:
    if expect is None:
        return None
    try:
        return re.compile(expect, re.IGNORECASE)
    except re.error as exc:
        raise UsageError(f"--expect is not a valid regex: {exc}") from None
