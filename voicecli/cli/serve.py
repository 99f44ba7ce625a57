"""``voicecli serve``: run the local agent server until Ctrl+C.

The command function is plain Python; the Typer app registers it with its options.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from voicecli.audio import codecs
from voicecli.errors import ConfigError, NetworkError, UsageError

if TYPE_CHECKING:
    from voicecli.agent.config import AgentConfig

KEY_PREFIX = "sk_local_"


def _resolve_key(api_key_env: str | None, out: TextIO) -> str:
    if api_key_env:
        value = os.environ.get(api_key_env, "").strip()
        if not value:
            raise ConfigError(f"--api-key-env {api_key_env}: that environment variable is empty or unset")
        return value
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    print(f"API key for this server: {key}", file=out)
    return key


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
        key = _resolve_key(api_key_env, out)
        config = AgentConfig(api_key=key, agent_ids=list(agent_ids) if agent_ids else None, greeting=greeting,
                             public_agents=tuple(public_agents or ()), brain=brain,
                             brain_options=brain_options, speech=speech,
                             vad_hangover_ms=hangover_ms, voiceagent_auth=voiceagent_auth,
                             allow_faults=allow_faults, faults=faults, max_sessions=max_sessions)
    except (FaultSpecError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return UsageError.exit_code
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return exc.exit_code
    try:
        asyncio.run(_serve(config, host, port, out, err))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=err)
        return NetworkError.exit_code
    return 0


async def _serve(config: AgentConfig, host: str, port: int, out: TextIO, err: TextIO) -> None:
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
        print(f"voicecli local agent listening on {agent.url}", file=out)
        print(f"  at most {agent.max_sessions} sessions at once", file=out)
        for name, path in sorted(dialects.names().items()):
            print(f"  {name:<12} ws://{agent.url[7:]}{path}", file=out)
        if config.public_agents:
            print(f"  public agents (no key needed): {', '.join(config.public_agents)}", file=out)
        if config.allow_faults:
            print("  fault injection allowed: add ?fault=PLAN to a WebSocket URL", file=out)
        out.flush()
        with contextlib.suppress(asyncio.CancelledError):
            await agent.serve_forever()
        print("stopped", file=err)
    finally:
        await agent.stop()
