"""``voicecli serve``: run the local agent server until Ctrl+C.

The command function is plain Python; the Typer app registers it with its options.
The port is bound before anything is printed (a busy port fails before a key is shown);
then the banner: the key (a generated one only), the URL, each dialect's endpoint and the
command that connects to it. Each WebSocket session is logged in one line when it ends
(dialect, peer, close code). Ctrl+C or SIGTERM closes every client with close code 1001
(going away), then exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from voicecli.audio import codecs
from voicecli.cli.output import error_line
from voicecli.errors import ConfigError, NetworkError, UsageError
from voicecli.secrets import RedactingFilter

if TYPE_CHECKING:
    from voicecli.agent.config import AgentConfig

KEY_PREFIX = "sk_local_"
KEY_ENV = "VOICECLI_LOCAL_KEY"  # the local profile's key_env in config.example.toml
SESSION_LOGGER = "voicecli.agent.server"


def _resolve_key(api_key_env: str | None) -> str:
    if api_key_env:
        value = os.environ.get(api_key_env, "").strip()
        if not value:
            raise ConfigError(f"--api-key-env {api_key_env}: that environment variable is empty or unset")
        return value
    return KEY_PREFIX + secrets.token_urlsafe(24)


def connect_lines(url: str, key: str | None, api_key_env: str | None) -> list[str]:
    """How to talk to this server: the local profile of config.example.toml, or no config.
    A generated key is shown (it is printed once anyway); a key from the environment is
    named by its variable, never shown."""
    value = key if api_key_env is None else f"${api_key_env}"
    return ["connect with (the [profiles.local] of config.example.toml):",
            f"  {KEY_ENV}={value} voicecli talk --profile local --url {url}",
            "or with no config file:",
            f"  SMALLEST_API_KEY={value} voicecli talk --url {url} --agent local"]


class _SessionLines(logging.Handler):
    """Prints the server's one-line session records (dialect, peer, close code)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(logging.INFO)
        self.out = out
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "session_line", False):
            with contextlib.suppress(Exception):
                print(record.getMessage(), file=self.out, flush=True)


def serve_command(host: str = "127.0.0.1", port: int = 8765, api_key_env: str | None = None,
                  greeting: str | None = None, brain: str = "auto", allow_faults: bool = False,
                  faults: str | None = None, speech: bool = True, agent_ids: Sequence[str] | None = None,
                  public_agents: Sequence[str] | None = None,
                  hangover_ms: int = 600, voiceagent_auth: bool = False, llm_url: str | None = None,
                  llm_model: str | None = None,
                  llm_api_key_env: str | None = None, max_sessions: int | None = None,
                  out: TextIO | None = None,
                  err: TextIO | None = None) -> int:
    """Serve every dialect on ``host:port`` until interrupted; returns the exit code.

    Clients authenticate with the key held in the environment variable ``api_key_env``;
    without it a random key is made and printed once. ``allow_faults`` lets clients ask
    for injected faults per connection (``?fault=...``); ``faults`` applies a plan to
    every connection. ``public_agents`` need no key (ElevenLabs public agents).
    ``voiceagent_auth`` makes the VoiceAgent endpoint ask for the key too
    (``Authorization: Bearer KEY``; the SDK has no auth).
    ``llm_url``/``llm_model``/``llm_api_key_env`` configure ``brain="llm"``.
    ``max_sessions`` caps the sessions at once (more get HTTP 503); ``None``: from the
    cores and the available memory.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.faults import FaultPlan, FaultSpecError

    brain_options = {k: v for k, v in (("url", llm_url), ("model", llm_model),
                                         ("api_key_env", llm_api_key_env)) if v}
    try:
        FaultPlan.parse(faults)
        if brain == "llm":
            from voicecli.agent.brains.factory import make_brain

            make_brain("llm", **brain_options)  # a missing --llm-url/--llm-model is a usage error
        key = _resolve_key(api_key_env)
        config = AgentConfig(api_key=key, agent_ids=list(agent_ids) if agent_ids else None, greeting=greeting,
                             public_agents=tuple(public_agents or ()), brain=brain,
                             brain_options=brain_options, speech=speech,
                             vad_hangover_ms=hangover_ms, voiceagent_auth=voiceagent_auth,
                             allow_faults=allow_faults, faults=faults, max_sessions=max_sessions)
    except (FaultSpecError, ValueError) as exc:
        print(error_line(str(exc)), file=err)
        return UsageError.exit_code
    except ConfigError as exc:
        print(error_line(str(exc)), file=err)
        return exc.exit_code
    sessions = _SessionLines(err)
    server_log = logging.getLogger(SESSION_LOGGER)
    server_log.addHandler(sessions)
    if server_log.getEffectiveLevel() > logging.INFO:
        server_log.setLevel(logging.INFO)
    try:
        asyncio.run(_serve(config, host, port, out, err, None if api_key_env else key, api_key_env))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        print(error_line(f"cannot listen on {host}:{port}: {why}"), file=err)
        return NetworkError.exit_code
    finally:
        server_log.removeHandler(sessions)
    return 0


async def _serve(config: AgentConfig, host: str, port: int, out: TextIO, err: TextIO,
                 shown_key: str | None, api_key_env: str | None) -> None:
    from voicecli.agent import dialects
    from voicecli.agent.server import LocalAgent

    agent = LocalAgent(config)
    await agent.start(host, port)
    main = asyncio.current_task()
    if main is not None:  # SIGTERM stops the server like Ctrl+C
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        for notice in agent.notices:
            print(f"note: {notice}", file=err)
        if not codecs.av_available():
            print(f"note: {codecs.AV_NOTICE} (until then VoiceAgent replies carry no audio, "
                  "except with ?format=wav)", file=err)
        voice = agent.voice
        if voice is not None:
            print(f"brain: {voice.brain_name}, voice: {voice.synth.name}", file=err)
        if shown_key is not None:
            print(f"API key for this server: {shown_key}", file=out)
        print(f"voicecli local agent listening on {agent.url}", file=out)
        print(f"  at most {agent.max_sessions} sessions at once", file=out)
        for name, path in sorted(dialects.names().items()):
            print(f"  {name:<12} ws://{agent.url[7:]}{path}", file=out)
        if config.public_agents:
            print(f"  public agents (no key needed): {', '.join(config.public_agents)}", file=out)
        if config.allow_faults:
            print("  fault injection allowed: add ?fault=PLAN to a WebSocket URL", file=out)
        for line in connect_lines(agent.url, shown_key, api_key_env):
            print(line, file=out)
        out.flush()
        with contextlib.suppress(asyncio.CancelledError):
            await agent.serve_forever()
    finally:
        await agent.stop(going_away=True)  # every client gets close code 1001
    print("stopped", file=err)
