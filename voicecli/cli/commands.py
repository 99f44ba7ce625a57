"""Typer signatures of every command; the work lives in talk.py, smoke.py, serve.py and
devices.py, imported when a command runs, so ``--help`` loads nothing but Typer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: the dialects' names, written out so that ``--help`` imports no protocol code
#: (tests/cli/test_help_text.py checks them against the registry)
DIALECT_NAMES = "atoms, elevenlabs, token-pcm, voiceagent, perfvoice"


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


def talk(
    agent: Annotated[str | None, typer.Option("--agent", envvar="VOICECLI_AGENT", metavar="ID",
                                              help="Agent id (alone: Atoms at api.smallest.ai).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", envvar="VOICECLI_PROFILE", metavar="NAME",
                                                help="Profile from the config file (voicecli profiles).")] = None,
    url: Annotated[str | None, typer.Option("--url", envvar="VOICECLI_URL", metavar="URL",
                                            help="Provider base URL or full ws(s):// URL.")] = None,
    dialect: Annotated[str | None, typer.Option("--dialect", "-d", envvar="VOICECLI_DIALECT", metavar="NAME",
                                                help=f"Wire protocol: {DIALECT_NAMES} (default: from the URL).")
                       ] = None,
    var: Annotated[list[str] | None, typer.Option("--var", metavar="KEY=VALUE",
                                                  help="Agent variable; repeatable.")] = None,
    sample_rate: Annotated[int | None, typer.Option("--sample-rate", metavar="HZ",
                                                    help="Requested audio rate.")] = None,
    ptt: Annotated[str, typer.Option("--ptt", metavar="off|toggle|hold",
                                     help="Push-to-talk mode (default off: open mic).")] = "off",
    input_device: Annotated[str | None, typer.Option("--input-device", metavar="NAME|INDEX",
                                                     help="Microphone.")] = None,
    output_device: Annotated[str | None, typer.Option("--output-device", metavar="NAME|INDEX",
                                                      help="Speaker.")] = None,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Text only: no mic, no speaker.")] = False,
    record: Annotated[Path | None, typer.Option("--record", metavar="DIR",
                                                help="Record a stereo WAV (mic, agent) and the transcript.")] = None,
    half_duplex: Annotated[bool, typer.Option("--half-duplex",
                                              help="Mute the mic while the agent talks.")] = False,
    aec: Annotated[str, typer.Option("--aec", metavar="on|off|auto",
                                     help="Echo cancellation (auto: on with a microphone and a "
                                          "speaker).")] = "auto",
    echo_check: Annotated[bool, typer.Option("--echo-check",
                                             help="First check whether the microphone hears the "
                                                  "speaker.")] = False,
    allow_insecure: Annotated[bool, typer.Option("--allow-insecure",
                                                 help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, typer.Option("--config", metavar="PATH", help="Config file.")] = None,
    transcript_dir: Annotated[Path | None, typer.Option("--transcript-dir", metavar="DIR",
                                                        help="Where transcripts are saved.")] = None,
    reconnect: Annotated[int, typer.Option("--reconnect", envvar="VOICECLI_RECONNECT", metavar="N",
                                           help="Tries after a lost connection (0: only /reconnect).")] = 5,
    reconnect_delay: Annotated[float, typer.Option("--reconnect-delay", envvar="VOICECLI_RECONNECT_DELAY",
                                                   metavar="S", help="Wait before the first try.")] = 1.0,
    timeout: Annotated[float, typer.Option("--timeout", metavar="S",
                                           help="Give up connecting after this many seconds.")] = 10.0,
    log_file: Annotated[Path | None, typer.Option(
        "--log-file", metavar="PATH",
        help="Write logs here (level: VOICECLI_LOG, default debug); default with VOICECLI_LOG set: "
             "voicecli.log in the user log directory.")] = None,
) -> None:
    """Talk with an agent in a terminal UI (the local offline agent by default)."""
    from voicecli.cli.talk import talk_command

    talk_command(agent=agent, profile=profile, url=url, dialect=dialect, var=var, sample_rate=sample_rate, ptt=ptt,
                 input_device=input_device, output_device=output_device, no_audio=no_audio, record=record,
                 half_duplex=half_duplex, allow_insecure=allow_insecure, config=config,
                 transcript_dir=transcript_dir, reconnect=reconnect, reconnect_delay=reconnect_delay,
                 timeout=timeout, log_file=log_file, aec=aec, echo_check=echo_check)


def smoke(
    text: Annotated[list[str] | None, typer.Option("--text", "-t", help="A typed turn (repeatable).")] = None,
    audio: Annotated[list[Path] | None, typer.Option("--audio", "-a",
                                                     help="A WAV file spoken as a turn (repeatable).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", envvar="VOICECLI_PROFILE",
                                                help="Profile from the config file.")] = None,
    url: Annotated[str | None, typer.Option("--url", envvar="VOICECLI_URL",
                                            help="Provider base URL or full ws(s):// URL.")] = None,
    dialect: Annotated[str | None, typer.Option("--dialect", "-d", envvar="VOICECLI_DIALECT",
                                                help=f"{DIALECT_NAMES}.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", envvar="VOICECLI_AGENT", help="Agent id.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="A variable KEY=VALUE (repeatable).")] = None,
    sample_rate: Annotated[int | None, typer.Option("--sample-rate", help="Requested audio rate.")] = None,
    expect: Annotated[str | None, typer.Option("--expect", help="Regex the agent's transcript must match.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the agent's audio to this WAV.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Give up after this many seconds.")] = 60.0,
    interrupt_after: Annotated[float | None, typer.Option(
        "--interrupt-after", help="Start each next turn this many seconds into the agent's reply (barge-in).")] = None,
    reply_wait: Annotated[float | None, typer.Option(
        "--reply-wait", help="Give a turn this many seconds to get a reply, then report no reply and go on.")] = None,
    greeting_wait: Annotated[float | None, typer.Option(
        "--greeting-wait", help="Wait this many seconds for the agent's greeting to start before the first "
                                "turn (default 2; 0 for an agent with no greeting).")] = None,
    allow_insecure: Annotated[bool, typer.Option("--allow-insecure",
                                                 help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, typer.Option("--config", help="Config file path.")] = None,
    retries: Annotated[int, typer.Option("--retries", help="Retry transient failures before the first turn "
                                                           "this many times (never during a turn).")] = 0,
    retry_delay: Annotated[float, typer.Option("--retry-delay", envvar="VOICECLI_RECONNECT_DELAY",
                                               help="Wait before the first retry, growing after.")] = 1.0,
) -> int:
    """Run a scripted conversation headless and report figures (CI probe).

    With no --url and no profile, it talks to the built-in local agent.
    """
    from voicecli.cli.smoke import smoke_command

    return smoke_command(text=text, audio=audio, profile=profile, url=url, dialect=dialect, agent=agent, var=var,
                         sample_rate=sample_rate, expect=expect, out=out, json_out=json_out, timeout=timeout,
                         interrupt_after=interrupt_after, reply_wait=reply_wait, greeting_wait=greeting_wait,
                         allow_insecure=allow_insecure, config=config, retries=retries, retry_delay=retry_delay)
