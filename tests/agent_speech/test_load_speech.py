"""load_speech degrades to a notice without the `local` extra; the brain factory."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from voicecli.agent.brains.factory import make_brain
from voicecli.agent.brains.llm import LlmBrain
from voicecli.agent.brains.rules import RulesBrain
from voicecli.agent.speech import INSTALL_NOTICE, load_speech
from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer


def hide(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            monkeypatch.delitem(sys.modules, name)
    for name in packages:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError


def test_load_speech_gives_both_parts_when_installed() -> None:
    tts, stt, notice = load_speech()
    assert isinstance(tts, HibariSynthesizer)
    assert isinstance(stt, PocketSphinxRecognizer)
    assert notice is None


def test_without_the_local_extra_load_speech_gives_nones_and_the_install_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide(monkeypatch, "hibari", "pocketsphinx")
    assert load_speech() == (None, None, INSTALL_NOTICE)
    assert INSTALL_NOTICE == "offline speech not installed: pip install 'voicecli[local]'"


def test_one_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "hibari")
    tts, stt, notice = load_speech()
    assert tts is None and isinstance(stt, PocketSphinxRecognizer)
    assert notice == f"{INSTALL_NOTICE} (hibari-tts is missing)"


def test_a_broken_model_is_a_notice_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("model file is corrupt")

    monkeypatch.setattr(PocketSphinxRecognizer, "__init__", broken)
    tts, stt, notice = load_speech()
    assert tts is not None and stt is None
    assert notice == "speech recognition failed to load (model file is corrupt)"


def test_make_brain_by_name() -> None:
    assert isinstance(make_brain("rules"), RulesBrain)
    llm = make_brain("llm", url="http://127.0.0.1:11434", model="llama3.2", api_key_env=None)
    assert isinstance(llm, LlmBrain)
    assert llm.url == "http://127.0.0.1:11434/v1/chat/completions" and llm.model == "llama3.2"
    echo = make_brain("echo")
    assert echo.name == "echo"


def test_make_brain_explains_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="--llm-url and --llm-model"):
        make_brain("llm")
    with pytest.raises(ValueError, match="unknown brain 'smart'"):
        make_brain("smart")
    with pytest.raises(ValueError, match="rules brain does not take"):
        make_brain("rules", temperature=0.2)


def test_an_import_error_in_voicecli_itself_is_not_taken_for_a_missing_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def typo(self: object, *args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'voicecli.agent.speech.tokens'", name="voicecli.agent.speech.tokens")

    monkeypatch.setattr(HibariSynthesizer, "__init__", typo)
    with pytest.raises(ModuleNotFoundError, match="voicecli.agent.speech.tokens"):
        load_speech()


def test_the_synthesizers_of_a_voice_share_one_model_and_take_turns_on_it() -> None:
    first, second = HibariSynthesizer(seed=1), HibariSynthesizer(seed=1)
    assert first._tts is second._tts and first._lock is second._lock  # loaded once per process
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda synth: synth.synthesize("Two plus two is four."), [first, second]))
    assert together[0] == together[1] == first.synthesize("Two plus two is four.")
