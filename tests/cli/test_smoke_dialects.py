"""One local agent on one port serves all five dialects at their real paths; `voicecli smoke`
finds each from the base URL alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import NO_GREETING, Cli, tone_wav
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

KEY = "sk_dialects_Q7w2"
KEY_ENVS = {"SMALLEST_API_KEY": KEY, "ELEVENLABS_API_KEY": KEY, "PERFVOICE_API_KEY": KEY,
            "VOICECLI_API_KEY": KEY}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    url, stop = start_in_thread(AgentConfig(api_key=KEY, greeting="", speech=False, brain="echo"))
    yield url
    stop()


def profile(tmp_path: Path, dialect: str, url: str) -> list[str]:
    config = tmp_path / "config.toml"
    extra = '[profiles.p.options]\nauth = "bearer"\n' if dialect == "voiceagent" else ""
    config.write_text(f'[profiles.p]\ndialect = "{dialect}"\nurl = "{url}"\nagent = "local"\n{extra}')
    return ["--config", str(config), "--profile", "p"]


@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs", "voiceagent"])
def test_text_turn(cli: Cli, base_url: str, tmp_path: Path, dialect: str) -> None:
    proc, report = cli.smoke_json(*NO_GREETING, *profile(tmp_path, dialect, base_url), "--text", "hello there",
                                  extra_env=KEY_ENVS)
    assert proc.returncode == 0, proc.stderr
    assert report["dialect"] == dialect
    turn = report["turns"][0]
    assert "hello there" in turn["agent_transcript"].lower()
    assert turn["agent_audio_s"] > 0.3
    assert KEY not in proc.stdout + proc.stderr


@pytest.mark.realtime  # each dialect's one spoken turn through smoke, in real time end to end
@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs", "token-pcm", "voiceagent", "perfvoice"])
def test_audio_turn(cli: Cli, base_url: str, tmp_path: Path, dialect: str) -> None:
    clip = tone_wav(tmp_path / "in.wav", rate=48000, channels=1)
    proc, report = cli.smoke_json(*NO_GREETING, *profile(tmp_path, dialect, base_url), "--audio", str(clip),
                                  extra_env=KEY_ENVS)
    assert proc.returncode == 0, proc.stderr
    turn = report["turns"][0]
    assert turn["first_audio_ms"] is not None
    assert turn["agent_audio_s"] > 0.3  # the echo brain plays the user's audio back
    assert KEY not in proc.stdout + proc.stderr


@pytest.mark.parametrize("dialect", ["token-pcm", "perfvoice"])
def test_typed_text_refused_where_the_provider_has_none(cli: Cli, base_url: str, tmp_path: Path,
                                                         dialect: str) -> None:
    proc = cli.run("smoke", *profile(tmp_path, dialect, base_url), "--text", "hi", extra_env=KEY_ENVS)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"voicecli: error: {dialect} does not accept typed text: use --audio FILE.wav"


@pytest.mark.realtime  # the second turn is sent 0.6 s into the paced first reply
@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs", "voiceagent"])
def test_barge_in_keeps_each_reply_on_its_turn(cli: Cli, base_url: str, tmp_path: Path, dialect: str) -> None:
    """Two typed turns, the second sent 0.6 s into the first reply: each turn reports its own
    reply, the first one cut (text truncated to what was heard), in conversation order."""
    first = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    proc, report = cli.smoke_json(*NO_GREETING, *profile(tmp_path, dialect, base_url), "--text", first,
                                  "--text", "second turn", "--interrupt-after", "0.6", extra_env=KEY_ENVS)
    assert proc.returncode == 0, proc.stderr
    cut, second = report["turns"]
    assert cut["interrupted"] and not second["interrupted"], report
    full = f"you said: {first}"  # the echo brain's whole reply
    assert cut["agent_transcript"] and full.startswith(cut["agent_transcript"].lower().rstrip(" .…")), cut
    assert len(cut["agent_transcript"]) < len(full), cut
    assert "second turn" in second["agent_transcript"].lower() and "fourteen" not in second["agent_transcript"]
    assert cut["agent_audio_s"] > 0 and second["agent_audio_s"] > 0.3, report
