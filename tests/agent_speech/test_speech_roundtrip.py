"""hibari speaks, PocketSphinx listens: the offline voice and ears of the local agent."""

from __future__ import annotations

import time

import numpy as np

from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer
from voicecli.agent.voice_contracts import Recognizer, Synthesizer

from .conftest import frames


def test_classes_satisfy_the_protocols(synth: HibariSynthesizer, recognizer: PocketSphinxRecognizer) -> None:
    tts: Synthesizer = synth
    stt: Recognizer = recognizer
    assert (tts.name, tts.rate) == ("hibari", 24000)
    assert (stt.name, stt.rate) == ("pocketsphinx", 16000)


def test_synthesize_gives_pcm16_speech_of_a_plausible_length(synth: HibariSynthesizer) -> None:
    pcm = synth.synthesize("What is the weather in Paris today?")
    assert len(pcm) % 2 == 0
    samples = np.frombuffer(pcm, dtype="<i2")
    seconds = samples.size / synth.rate
    assert 1.0 < seconds < 5.0
    assert np.abs(samples).max() > 3000  # audible, not silence
    assert synth.synthesize("   ") == b""


def test_round_trip_recognises_the_key_words(recognizer: PocketSphinxRecognizer, phrase_16k: bytes) -> None:
    recognizer.start()
    partials = [p for chunk in frames(phrase_16k) if (p := recognizer.feed(chunk)) is not None]
    final = recognizer.finish().lower()
    assert "weather" in final and "paris" in final, final
    # partial hypotheses arrive while feeding, each one different from the previous one
    assert len(partials) >= 3
    assert all(a != b for a, b in zip(partials, partials[1:], strict=False))
    assert any("weather" not in p for p in partials)  # some came before the end of the audio


def test_odd_sized_feeds_and_a_second_utterance(recognizer: PocketSphinxRecognizer, phrase_16k: bytes) -> None:
    recognizer.start()
    for i in range(0, len(phrase_16k), 999):  # odd sizes split samples across feeds
        recognizer.feed(phrase_16k[i : i + 999])
    first = recognizer.finish()
    assert "paris" in first.lower()
    recognizer.start()
    recognizer.feed(bytes(16000))  # half a second of silence
    assert "paris" not in recognizer.finish().lower()


def test_finish_without_start_is_empty() -> None:
    fresh = PocketSphinxRecognizer()
    assert fresh.finish() == ""


def test_recognizer_loads_fast_and_quietly(capfd) -> None:  # type: ignore[no-untyped-def]
    # the CPU this process spent loading it: the wall time also counts other processes' turns
    # on a shared machine (the suite's own workers among them)
    started = time.process_time()
    PocketSphinxRecognizer()
    elapsed = time.process_time() - started
    out, err = capfd.readouterr()
    assert elapsed < 2.0
    assert out == "" and err == ""


def test_a_spoken_question_gets_the_right_answer(synth: HibariSynthesizer, recognizer: PocketSphinxRecognizer) -> None:
    """hibari asks, PocketSphinx hears, the rules brain answers: the offline agent's loop."""
    from voicecli.agent.brains.rules import RulesBrain

    from .conftest import to_16k

    pcm = to_16k(synth.synthesize("What is twelve plus seven?"))
    recognizer.start()
    for chunk in frames(pcm):
        recognizer.feed(chunk)
    heard = recognizer.finish()
    assert RulesBrain().answer(heard) == ["12 plus 7 is 19."], heard
