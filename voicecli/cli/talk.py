"""``voicecli talk``: a conversation in a terminal UI.

With no provider configured it talks to the embedded local agent (offline). The command's
options are in :mod:`voicecli.cli.commands`; Textual is imported when the command runs, so
the other commands never load it. In order:

1. logging goes to a file (never the terminal the app draws on);
2. every check that needs no network (options, config, key, devices, folders, the
   dialect's own options) fails here in one line, before the full-screen app;
3. the app runs; a handshake error is shown in it, then it leaves;
4. on the normal screen: the conversation's last turns and the session summary (or only
   the one-line error when it never connected), then the exit code (Ctrl+C: 130).

A connection lost after the session started is reconnected (``--reconnect N`` tries, the
first after ``--reconnect-delay S``, growing with jitter); ``/reconnect`` tries again after that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from voicecli.cli import checks
from voicecli.cli.common import endpoint, setup_logging
from voicecli.cli.config import Target, api_key, key_required, parse_vars, resolve
from voicecli.cli.output import print_error, print_notice
from voicecli.errors import UsageError
from voicecli.session.events import SessionClosed

if TYPE_CHECKING:
    from voicecli.audio.base import AudioBackend
    from voicecli.session.options import SessionOptions
    from voicecli.session.reconnect import ReconnectSettings
    from voicecli.tui.binding import LiveSession


def transcript_file(directory: Path | None, dialect: str, now: float | None = None) -> Path:
    """``<data dir>/transcripts/<timestamp>-<dialect>.jsonl`` (XDG_DATA_HOME is honoured)."""
    if directory is None:
        from platformdirs import user_data_path

        directory = user_data_path("voicecli") / "transcripts"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return directory.expanduser() / f"{stamp}-{dialect}.jsonl"


def _device(spec: str | None) -> str | int | None:
    if spec is None:
        return None
    return int(spec) if spec.isdigit() else spec


def audio_backend(no_audio: bool, input_device: str | None, output_device: str | None) -> AudioBackend:
    """The sound card backend, or a text-only one that says why."""
    from voicecli.audio.base import NullBackend

    if no_audio:
        return NullBackend("text only (--no-audio)")
    if input_device is not None or output_device is not None:
        # a device the user named must exist: say so now, not after the app has started
        from voicecli.audio.devices import find_device

        for spec, direction in ((input_device, "input"), (output_device, "output")):
            if spec is not None:
                find_device(_device(spec), direction)  # type: ignore[arg-type]
    try:
        from voicecli.audio.backends import SoundDeviceBackend

        backend: AudioBackend = SoundDeviceBackend(_device(input_device), _device(output_device))
    except Exception as exc:  # noqa: BLE001 - no audio stack: go on text-only, say why
        return NullBackend(f"audio unavailable ({exc.__class__.__name__}: {exc}); text only")
    return backend


# the provider mode that asks for a text-only session, where the provider has one: Atoms'
# chat mode, ElevenLabs' ``text_only`` conversation override; the others always speak
TEXT_MODES = {"atoms": ("chat", ("chat",)), "elevenlabs": ("text", ("text", "chat"))}


def text_only_session(target: Target, backend: AudioBackend) -> tuple[Target, AudioBackend]:
    """A session with no audio asks the provider for text only (whole replies, unpaced,
    never cut by the next message); a text mode the profile names needs no devices."""
    from voicecli.audio.base import NullBackend

    ask, modes = TEXT_MODES.get(target.dialect, (None, ()))
    if target.mode is not None and target.mode in modes and not isinstance(backend, NullBackend):
        return target, NullBackend(f"text only ({target.dialect} mode {target.mode})")
    if ask is not None and target.mode is None and isinstance(backend, NullBackend):
        return dataclasses.replace(target, mode=ask), backend
    return target, backend


def _text_only_reason(backend: AudioBackend) -> str | None:
    from voicecli.audio.base import NullBackend

    return (backend.notice or "no audio") if isinstance(backend, NullBackend) else None


def preflight(target: Target, record: Path | None, transcript_dir: Path | None) -> None:
    """What can be checked without the network, before the full-screen UI starts: the
    dialect's options (sample rate, mode, auth...) and the folders to write into."""
    from voicecli.protocol.registry import adapter_class
    from voicecli.secrets import Secret

    key = None if target.local else api_key(target, required=key_required(target))
    url = "ws://127.0.0.1:1" if target.local else None  # the local agent's port is not known yet
    adapter_class(target.dialect)(target.dialect_config(url=url, api_key=key or Secret("sk_preflight")))
    for option, folder in (("--record", record), ("--transcript-dir", transcript_dir)):
        if folder is not None:
            checks.writable_folder(option, folder.expanduser())


def reconnect_settings(attempts: int, delay: float) -> ReconnectSettings:
    """How talk reconnects: ``attempts`` tries (0: only ``/reconnect``), the first after
    ``delay`` seconds; after giving up, ``/reconnect`` tries again."""
    from voicecli.session.reconnect import ReconnectSettings, user_backoff

    try:
        return ReconnectSettings(backoff=user_backoff(attempts, delay), hold=True)
    except ValueError as exc:
        raise UsageError(f"--reconnect/--reconnect-delay: {exc}") from None


def session_factory(target: Target, backend: AudioBackend,
                    options: SessionOptions) -> Callable[[], contextlib.AbstractAsyncContextManager[LiveSession]]:
    from voicecli.session.worker import Session
    from voicecli.tui.binding import LiveSession

    # a text-only session reads the embedded agent's replies and never hears them: its
    # agent starts without the speech models (1.5 s of CPU at start-up, and their memory)
    speech = _text_only_reason(backend) is None

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSession]:
        try:
            # the embedded agent in a process of its own: its speech work would stall the app
            async with endpoint(target, speech=speech, own_process=True) as ep:
                yield LiveSession(Session(ep.adapter, backend, options), ep.label, ep.local, target.agent_id)
        finally:
            with contextlib.suppress(Exception):
                await backend.close()

    return factory


def talk_command(
    *, agent: str | None, profile: str | None, url: str | None, dialect: str | None, var: list[str] | None,
    sample_rate: int | None, ptt: str, input_device: str | None, output_device: str | None, no_audio: bool,
    record: Path | None, half_duplex: bool, allow_insecure: bool, config: str | None, transcript_dir: Path | None,
    reconnect: int, reconnect_delay: float, timeout: float, log_file: Path | None, aec: str = "auto",
    echo_check: bool = False,
) -> None:
    """The work of ``voicecli talk`` (its options are in :mod:`voicecli.cli.commands`)."""
    log_path = setup_logging(log_file=log_file, terminal_ui=True)
    from voicecli.session.options import SessionOptions
    from voicecli.session.recording import Recordings
    from voicecli.tui.ptt import PttMode

    try:
        mode = PttMode.parse(ptt)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    checks.sample_rate(sample_rate)
    if aec.lower() not in ("on", "off", "auto"):
        raise UsageError(f"--aec takes on, off or auto, not {aec!r}")
    connect_s = checks.seconds("--timeout", timeout) or timeout
    redial = reconnect_settings(reconnect, reconnect_delay)
    target = resolve(profile=profile, url=url, dialect=dialect, agent=agent, sample_rate=sample_rate,
                     variables=parse_vars(var or []), config_file=config)
    preflight(target, record, transcript_dir)  # a missing key or a bad option fails here, in one line
    target, backend = text_only_session(target, audio_backend(no_audio, input_device, output_device))
    recordings = Recordings()
    notices: list[str] = []
    if echo_check and not _text_only_reason(backend):
        from voicecli.audio.aec_probe import check_setup

        line = check_setup(backend, aec.lower())
        if line:
            notices.append(line)
    options = SessionOptions(allow_insecure=allow_insecure, half_duplex=half_duplex, aec=aec.lower(),
                             reconnect=redial, open_timeout=connect_s, ready_timeout=connect_s)
    if record is not None:
        try:
            wav = recordings.begin(options, record.expanduser())
            silent = " (text only: there is no audio to record)"
            notices.append(f"recording to {wav}" + (silent if _text_only_reason(backend) else ""))
        except OSError as exc:
            raise UsageError(f"--record {record}: {exc.strerror or exc}") from None
    # with --record, the transcript goes beside the recording unless told otherwise
    path = transcript_file(transcript_dir or record, target.dialect)

    from voicecli.tui import TalkSettings, create_app

    settings = TalkSettings(dialect=target.dialect, agent=target.agent_id, ptt=mode, transcript_path=path,
                            recorder=recordings, notices=notices, text_only=_text_only_reason(backend), profile=profile)
    app = create_app(session_factory(target, backend, options), settings)
    app.run()
    recordings.close()
    finish(app, log_path)


def finish(app: Any, log_path: Path | None) -> None:
    """After the full-screen app: the conversation and summary on the normal screen, the
    error that ended it in one line, and the exit code."""
    from voicecli.cli.exit_screen import print_exit
    from voicecli.errors import EXIT_INTERRUPTED

    code = app.exit_code
    summary = app.conversation.summary
    summary.count(app.transcript)
    if app.left_connecting:  # ctrl+c: interrupted (130); ctrl+q or /quit: 0
        if code == EXIT_INTERRUPTED:
            print_error("interrupted while connecting")
        else:
            print_notice("left before the session started")
        leave_now(code)
    if app.started:
        summary.finish(app.closed or SessionClosed(reason="closed"), exit_code=code)
        print_exit(app.transcript.turns, summary, log_file=log_path)
    elif log_path is not None:
        print_notice(f"log: {log_path}")
    if app.failure is not None and app.failure.error:
        print_error(app.failure.error)
    elif app.closed is not None and app.closed.error:
        print_error(app.closed.error)
    if code:
        raise typer.Exit(code)


def leave_now(code: int) -> None:
    """Exit at once: nothing is left to save, and the interpreter's teardown of the UI's
    modules alone takes about half a second (Ctrl+C while connecting must not wait)."""
    import logging
    import os
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
