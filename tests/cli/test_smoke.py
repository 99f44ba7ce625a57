"""`voicecli smoke` end to end: the real console command against a real local agent over
a loopback WebSocket."""

from __future__ import annotations

import socket
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.cli.conftest import NO_GREETING, TEST_KEY, Cli, tone_wav
from voicecli.cli.smoke import SPEED_ENV, scripted_speed
from voicecli.errors import UsageError

WRONG_KEY_MESSAGE = ("voicecli: error: atoms refused the connection (HTTP 401): bad or missing API key, "
                     "expired or used token, or unknown agent id")


def assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len([line for line in stderr.splitlines() if line.startswith("voicecli: error:")]) <= 1


def test_no_arguments_talks_to_the_embedded_agent(cli: Cli) -> None:
    proc, report = cli.smoke_json("--text", "hello")
    assert proc.returncode == 0, proc.stderr
    assert report["ok"] is True and report["error"] is None
    assert report["greeting"]  # the embedded agent greets
    turn = report["turns"][0]
    assert turn["first_audio_ms"] is not None and turn["first_audio_ms"] < 2000
    assert turn["agent_audio_s"] > 0.3
    assert turn["agent_transcript"]
    assert report["connect_ms"] is not None and report["session_ready_ms"] >= report["connect_ms"]


def test_text_turn_reports_figures_and_transcripts(cli: Cli, agent_url: str) -> None:
    proc, report = cli.smoke_json(*NO_GREETING, "--url", agent_url, "--agent", "agent_1", "--text", "good morning",
                                  "--expect", "you said")
    assert proc.returncode == 0, proc.stderr
    turn = report["turns"][0]
    assert turn["input"] == "text" and turn["content"] == "good morning"
    assert "good morning" in turn["agent_transcript"].lower()
    assert turn["first_audio_ms"] < 1000
    assert turn["reply_ms"] > turn["first_audio_ms"]
    assert report["session_id"] and report["conversation_id"]
    assert "sample_rate=24000" in report["url"]


@pytest.mark.realtime  # the ~600 ms of silence that ends the user's turn is timed
def test_audio_turn_from_a_wav_and_reply_saved(cli: Cli, paced_agent_url: str, tmp_path: Path) -> None:
    clip = tone_wav(tmp_path / "in.wav")  # 44.1 kHz stereo: resampled to the session rate
    out = tmp_path / "reply.wav"
    proc, report = cli.smoke_json(*NO_GREETING, "--url", paced_agent_url, "--agent", "agent_1",
                                  "--sample-rate", "16000", "--audio", str(clip), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    turn = report["turns"][0]
    assert turn["input"] == "audio"
    # the user's turn ends after ~600 ms of silence, then the agent answers
    assert 450 < turn["first_audio_ms"] < 2500
    assert turn["agent_audio_s"] > 0.5
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 16000
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert samples.size / 16000 >= turn["agent_audio_s"] - 0.05
    assert np.abs(samples).max() > 1000  # audible, not silence


@pytest.mark.realtime  # --interrupt-after 0.5 s into the paced reply
def test_barge_in_turn_marks_the_interrupted_reply(cli: Cli, paced_agent_url: str, tmp_path: Path) -> None:
    clip = tone_wav(tmp_path / "barge.wav", seconds=1.0, lead_silence=0.0)
    long_text = "please read this long sentence back to me slowly so that I can interrupt you " * 3
    proc, report = cli.smoke_json(*NO_GREETING, "--url", paced_agent_url, "--agent", "agent_1", "--text", long_text,
                                  "--audio", str(clip), "--interrupt-after", "0.5")
    assert proc.returncode == 0, proc.stderr
    first, second = report["turns"]
    assert first["interrupted"] is True
    assert first["agent_audio_s"] < 3.0  # cut short; the full reply would be much longer
    assert second["agent_audio_s"] > 0


def test_wrong_key(cli: Cli, agent_url: str) -> None:
    proc = cli.run("smoke", "--url", agent_url, "--agent", "agent_1",
                   extra_env={"SMALLEST_API_KEY": "sk_wrong_key_123"})
    assert proc.returncode == 4
    assert proc.stderr.strip().splitlines()[-1] == WRONG_KEY_MESSAGE
    assert_clean(proc.stderr)


def test_unknown_agent(cli: Cli, agent_url: str) -> None:
    proc = cli.run("smoke", "--url", agent_url, "--agent", "no_such_agent")
    assert proc.returncode == 4
    assert proc.stderr.strip().splitlines()[-1] == WRONG_KEY_MESSAGE


def test_server_down(cli: Cli) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = cli.run("smoke", "--url", f"http://127.0.0.1:{port}", "--agent", "a")
    assert proc.returncode == 6
    assert proc.stderr.strip() == (f"voicecli: error: connection refused by ws://127.0.0.1:{port}: "
                                   "is the server running?")


def test_missing_key_names_the_variable(cli: Cli) -> None:
    proc = cli.run("smoke", "--agent", "abc", extra_env={"SMALLEST_API_KEY": ""}, process=True)
    assert proc.returncode == 3
    assert proc.stderr.strip() == "voicecli: error: no API key: set the environment variable SMALLEST_API_KEY"


def test_bad_input(cli: Cli, tmp_path: Path) -> None:
    proc = cli.run("smoke", "--audio", str(tmp_path / "missing.wav"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"voicecli: error: audio file not found: {tmp_path / 'missing.wav'}"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    proc = cli.run("smoke", "--audio", str(bad), "--expect", "(")
    assert proc.returncode == 2
    assert "--expect is not a valid regex" in proc.stderr
    assert_clean(proc.stderr)


def test_short_lived_token_via_register_call(cli: Cli, agent_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.t]\ndialect = "atoms"\nurl = "{agent_url}"\nagent = "agent_1"\n'
                      '[profiles.t.options]\nauth = "register-call"\n')
    proc, report = cli.smoke_json("--config", str(config), "--profile", "t", "--text", "hi")
    assert proc.returncode == 0, proc.stderr
    # the single-use wct_ token carries the agent: the URL has the (masked) token and no agent id
    assert report["url"].endswith("/atoms/v1/agent/connect?token=***")
    assert report["turns"][0]["agent_audio_s"] > 0
    assert TEST_KEY not in proc.stdout + proc.stderr


def test_bad_option_values_are_usage_errors(cli: Cli) -> None:
    for args, words in ((["smoke", "--timeout", "abc"], "Invalid value for '--timeout'"),
                        (["smoke", "--nope"], "No such option: --nope"),
                        (["smoke", "--dialect", "nope"], "unknown dialect 'nope'"),
                        (["smoke", "--sample-rate", "12345"], "atoms supports sample rates")):
        proc = cli.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert words in proc.stderr
        assert "Traceback" not in proc.stderr


def test_scripted_speed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEED_ENV, raising=False)
    assert scripted_speed() == 1.0
    monkeypatch.setenv(SPEED_ENV, "4")
    assert scripted_speed() == 4.0
    for bad in ("fast", "0", "-2", "inf", "nan"):
        monkeypatch.setenv(SPEED_ENV, bad)
        with pytest.raises(UsageError, match=f"{SPEED_ENV} must be a number more than 0"):
            scripted_speed()


def test_a_bad_scripted_speed_is_a_usage_error_before_connecting(cli: Cli) -> None:
    proc = cli.run("smoke", "--url", "ws://127.0.0.1:9/x", "--agent", "a", extra_env={SPEED_ENV: "fast"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"voicecli: error: {SPEED_ENV} must be a number more than 0; got 'fast'"
