"""Typer signatures for ``serve`` and ``devices`` (their work lives in serve.py and devices.py)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", min=0, max=65535,
                                      help="Port to listen on (0: any free port).")] = 8765,
    api_key_env: Annotated[str | None, typer.Option(
        "--api-key-env", metavar="NAME",
        help="Environment variable holding the key clients must send (default: a random key, printed once).")
    ] = None,
    greeting: Annotated[str | None, typer.Option("--greeting", metavar="TEXT", help="What the agent says on connect "
                                                                    "('' for nothing).")] = None,
    brain: Annotated[str, typer.Option("--brain", metavar="rules|echo|llm",
                                       help="Who answers: rules (arithmetic, time, date), echo (repeats "
                                            "you) or llm (--llm-url).")] = "rules",
    llm_url: Annotated[str | None, typer.Option("--llm-url", metavar="URL",
                                                help="OpenAI-compatible endpoint (--brain llm).")] = None,
    llm_model: Annotated[str | None, typer.Option("--llm-model", metavar="NAME",
                                                  help="Model name (--brain llm).")] = None,
    llm_key_env: Annotated[str | None, typer.Option(
        "--llm-key-env", metavar="NAME", help="Environment variable with the LLM endpoint's key (--brain llm).")
    ] = None,
    agent: Annotated[list[str] | None, typer.Option("--agent", metavar="ID", help="Accepted agent id (repeatable; "
                                                                    "default: any).")] = None,
    public_agent: Annotated[list[str] | None, typer.Option(
        "--public-agent", metavar="ID", help="An agent that needs no key or signed URL (repeatable).")] = None,
    speech: Annotated[bool, typer.Option("--speech/--no-speech", help="Offline TTS/STT, or the tone voice.")
                      ] = True,
    hangover_ms: Annotated[int, typer.Option("--hangover-ms", metavar="MS", min=0, max=60_000,
                                             help="Silence that ends a user turn.")] = 600,
    allow_faults: Annotated[bool, typer.Option("--allow-faults",
                                               help="Let clients ask for faults with ?fault=PLAN.")] = False,
    faults: Annotated[str | None, typer.Option("--faults", metavar="PLAN",
                                               help="A fault plan for every connection.")] = None,
    voiceagent_auth: Annotated[bool, typer.Option(
        "--voiceagent-auth", help="Require 'Authorization: Bearer KEY' on the VoiceAgent endpoint "
                                  "(the SDK has no auth, so by default it needs no key).")] = False,
    max_sessions: Annotated[int | None, typer.Option(
        "--max-sessions", min=1, max=100_000, metavar="N",
        help="Sessions at once; more are refused with HTTP 503 (default: from the cores and memory).")] = None,
) -> int:
    """Run the local agent: every dialect at its provider's real path, on one port."""
    from voicecli.cli.serve import serve_command

    return serve_command(host=host, port=port, api_key_env=api_key_env, greeting=greeting, brain=brain,
                         allow_faults=allow_faults, faults=faults, speech=speech, agent_ids=agent,
                         public_agents=public_agent, hangover_ms=hangover_ms,
                         voiceagent_auth=voiceagent_auth, llm_url=llm_url, llm_model=llm_model,
                         llm_api_key_env=llm_key_env, max_sessions=max_sessions)


def devices(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> int:
    """List audio devices (index, name, host API, channels, default rate)."""
    from voicecli.cli.devices import devices_command

    return devices_command(json_out)
