"""PyAV is an extra (``voicecli[voiceagent-codecs]``): without it, mp3 and Opus give one install
notice and nothing crashes. PyAV is hidden by a package named ``av`` that fails to import,
first on the path of the command under test."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread
from voicecli.audio import codecs

KEY = "sk_test_no_av_4411"
NOTICE = "mp3 and Opus audio need PyAV: pip install 'voicecli[voiceagent-codecs]'"


@pytest.fixture
def no_av(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` raises ImportError


def hide_av(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    package = tmp_path / "hidden" / "av"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise ImportError("PyAV is not installed")\n')
    return {**env, "PYTHONPATH": f"{package.parent}:{env.get('PYTHONPATH', '')}"}


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    """A local agent that has PyAV: its VoiceAgent endpoint sends mp3 chunks (on a virtual
    clock: the same chunks, no waiting)."""
    url, stop = start_in_thread(AgentConfig(api_key=KEY, greeting="", speech=False, brain="echo", speed=math.inf))
    yield url
    stop()


def test_mp3_and_opus_say_how_to_install_pyav(no_av: None) -> None:
    assert not codecs.av_available()
    pcm = b"\x00\x10" * 1600
    for encoding in ("mp3", "opus", "webm", "mpeg"):
        with pytest.raises(codecs.CodecUnavailable, match=r"^mp3 and Opus audio need PyAV: pip install "):
            codecs.decode(b"\xff\xfb\x90\x00" * 64, encoding)
    for encoding in ("mp3", "opus"):
        with pytest.raises(codecs.CodecUnavailable) as info:
            codecs.encode(pcm, 16000, encoding)
        assert str(info.value) == NOTICE
    # what needs no PyAV still works
    assert codecs.decode(codecs.encode(pcm, 16000, "wav"), "wav") == (pcm, 16000)
    assert len(codecs.decode(codecs.encode(pcm, 8000, "ulaw"), "ulaw")[0]) == len(pcm)


def test_a_voiceagent_session_without_pyav_gives_one_notice_and_its_text(cli: Cli, agent_url: str,
                                                                         tmp_path: Path) -> None:
    env = hide_av(tmp_path, cli.env)
    probe = subprocess.run([sys.executable, "-c", "import av"], env=env, capture_output=True, text=True)
    assert "PyAV is not installed" in probe.stderr  # the command under test has no PyAV
    url = agent_url.replace("http://", "ws://") + "/voiceagent"
    proc = subprocess.run([sys.executable, "-m", "voicecli", "smoke", "--json", "--url", url, "--dialect",
                           "voiceagent", "--text", "tell me about the sea and the ships that sail on it",
                           "--text", "and the harbour"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [turn["agent_transcript"].startswith("You said:") for turn in report["turns"]] == [True, True]
    assert report["warnings"] == [NOTICE]  # once, though every chunk of two replies was mp3
    assert proc.stderr.splitlines() == [f"voicecli: warning: {NOTICE}"]


def test_serve_without_pyav_says_so_at_start(cli: Cli, tmp_path: Path) -> None:
    env = hide_av(tmp_path, cli.env)
    proc = subprocess.Popen([sys.executable, "-m", "voicecli", "serve", "--port", "0", "--brain", "echo",
                             "--no-speech", "--greeting", ""], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        while "listening on" not in proc.stdout.readline():
            assert proc.poll() is None, proc.stderr.read()
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    notes = [line for line in err.splitlines() if "PyAV" in line]
    assert notes == [f"note: {NOTICE} (until then VoiceAgent replies carry no audio, except with ?format=wav)"]
