"""Typer signatures of the commands for agent builders and set-up: ``test``, ``replay``,
``load``, ``doctor``, ``profiles`` and ``config init``. Like :mod:`voicecli.cli.commands`,
this imports nothing but Typer; each command imports its work when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer import Option


def test(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders of them.")],
    junit: Annotated[Path | None, Option("--junit", metavar="PATH", help="Write JUnit XML here.")] = None,
    report: Annotated[Path | None, Option("--report", metavar="PATH", help="Write the JSON report here.")] = None,
    markdown: Annotated[Path | None, Option("--markdown", metavar="PATH",
                                            help="Write a Markdown summary here.")] = None,
    record: Annotated[Path | None, Option("--record", metavar="DIR",
                                          help="Keep failed conversations (WAV + result) here.")] = None,
    json_out: Annotated[bool, Option("--json", help="Print the JSON report on stdout.")] = False,
    jobs: Annotated[int, Option("--jobs", "-j", min=1, max=64, help="Scenarios run at once.")] = 1,
    profile: Annotated[str | None, Option("--profile", "-p", metavar="NAME",
                                          help="Profile for every scenario.")] = None,
    url: Annotated[str | None, Option("--url", metavar="URL", help="Provider URL for every scenario.")] = None,
    dialect: Annotated[str | None, Option("--dialect", "-d", metavar="NAME",
                                          help="Dialect for every scenario.")] = None,
    agent: Annotated[str | None, Option("--agent", metavar="ID", help="Agent id for every scenario.")] = None,
    allow_insecure: Annotated[bool, Option("--allow-insecure", help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, Option("--config", metavar="PATH", help="Config file path.")] = None,
) -> int:
    """Run scenario files (conversations with expectations) and report like a test suite."""
    from voicecli.cli.scenario import scenario_test

    return scenario_test(paths=paths, junit=junit, report=report, markdown=markdown, record=record,
                         json_out=json_out, jobs=jobs, profile=profile, url=url, dialect=dialect, agent=agent,
                         allow_insecure=allow_insecure, config=config)


def replay(
    recording: Annotated[Path, typer.Argument(help="A recorded conversation (its folder or result.json).")],
    scenario: Annotated[Path, Option("--scenario", "-s", metavar="PATH",
                                     help="The scenario file to score it against.")],
    junit: Annotated[Path | None, Option("--junit", metavar="PATH", help="Write JUnit XML here.")] = None,
    json_out: Annotated[bool, Option("--json", help="Print the JSON report on stdout.")] = False,
) -> int:
    """Re-score a recorded conversation against a scenario file, offline."""
    from voicecli.cli.scenario import replay as replay_command

    return replay_command(recording=recording, scenario=scenario, junit=junit, json_out=json_out)


def load(
    scenario: Annotated[Path, typer.Argument(help="The scenario every session runs.")],
    sessions: Annotated[int, Option("--sessions", "-n", min=1, max=100_000, help="Sessions at once.")] = 10,
    ramp: Annotated[str, Option("--ramp", metavar="R/s", help="Session starts per second (10 or 10/s).")
                    ] = "10/s",
    duration: Annotated[str, Option("--duration", metavar="D",
                                    help="How long conversations keep starting (30s, 5m).")] = "30s",
    min_pass_rate: Annotated[float, Option("--min-pass-rate", min=0.0, max=1.0,
                                           help="Exit 9 below this share of passed conversations.")] = 0.95,
    json_out: Annotated[bool, Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, Option("--quiet", "-q", help="No progress line.")] = False,
    profile: Annotated[str | None, Option("--profile", "-p", metavar="NAME", help="Profile to load.")] = None,
    url: Annotated[str | None, Option("--url", metavar="URL", help="Provider URL to load.")] = None,
    dialect: Annotated[str | None, Option("--dialect", "-d", metavar="NAME", help="Dialect.")] = None,
    agent: Annotated[str | None, Option("--agent", metavar="ID", help="Agent id.")] = None,
    allow_insecure: Annotated[bool, Option("--allow-insecure", help="Allow ws:// to non-loopback hosts.")] = False,
    config: Annotated[str | None, Option("--config", metavar="PATH", help="Config file path.")] = None,
) -> int:
    """Run many concurrent sessions of a scenario and report latency percentiles."""
    from voicecli.cli.load import load_command

    return load_command(scenario=scenario, sessions=sessions, ramp=ramp, duration=duration,
                        min_pass_rate=min_pass_rate, json_out=json_out, quiet=quiet, profile=profile, url=url,
                        dialect=dialect, agent=agent, allow_insecure=allow_insecure, config=config)


def doctor(
    json_out: Annotated[bool, Option("--json", help="Print JSON instead of a table.")] = False,
    audio: Annotated[bool, Option("--audio/--no-audio", help="Check the audio stack and devices "
                                                             "(--no-audio: a text-only machine).")] = True,
    input_device: Annotated[str | None, Option("--input-device", metavar="NAME|INDEX",
                                               help="Also check this microphone.")] = None,
    output_device: Annotated[str | None, Option("--output-device", metavar="NAME|INDEX",
                                                help="Also check this speaker.")] = None,
    network: Annotated[bool, Option("--network/--no-network", help="Resolve and connect to each "
                                                                   "profile's host.")] = True,
    loopback: Annotated[bool, Option("--loopback/--no-loopback", help="Play a short tone and listen "
                                                                      "for it.")] = True,
    config: Annotated[str | None, Option("--config", metavar="PATH", help="Config file path.")] = None,
) -> int:
    """Check the audio stack, devices, profiles (keys, hosts) and the terminal."""
    from voicecli.cli.doctor import doctor as doctor_command

    return doctor_command(json_out=json_out, audio=audio, input_device=input_device, output_device=output_device,
                          network=network, loopback=loopback, config=config)


def profiles(
    json_out: Annotated[bool, Option("--json", help="Print JSON instead of a table.")] = False,
    config: Annotated[str | None, Option("--config", metavar="PATH", help="Config file.")] = None,
) -> None:
    """List the config file's profiles (* marks the default) and whether each key is set."""
    from voicecli.cli.profiles import profiles as profiles_command

    profiles_command(json_out=json_out, config=config)


def config_init(
    config: Annotated[str | None, Option("--config", metavar="PATH",
                                         help="Where to write (default: VOICECLI_CONFIG, else the "
                                              "user config directory).")] = None,
    force: Annotated[bool, Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config file with example profiles (edit it, then: voicecli profiles)."""
    from voicecli.cli.config_init import config_init as config_init_command

    config_init_command(config=config, force=force)
