"""The rules brain's constrained ears: questions it invites, spoken by two synthesizers, are
heard as its own sentences and answered; the grammar search keeps a sentence to the end of an
utterance; speech outside its grammar falls back to the general model; the factory gives the
rules brain these ears and the echo brain the general model; the benchmark's development set
is apart from the set it reports on."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soxr

from voicecli.agent.brains.rules import RulesBrain
from voicecli.agent.config import AgentConfig
from voicecli.agent.factory import build_voice
from voicecli.agent.speech.constrained import GrammarRecognizer, choose
from voicecli.agent.speech.espeak import EspeakSynthesizer
from voicecli.agent.speech.stt import PocketSphinxRecognizer, primary_pronunciations
from voicecli.agent.speech.tts import HibariSynthesizer

from .conftest import frames

NOW = datetime(2026, 5, 1, 9, 0)

# the module's recognizer is built once: its tests stay on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("constrained-ears")


@pytest.fixture(scope="module")
def brain() -> RulesBrain:
    return RulesBrain(now=lambda: NOW)


@pytest.fixture(scope="module")
def ears(brain: RulesBrain) -> GrammarRecognizer:
    return GrammarRecognizer(brain.grammar(), brain.understands)


def hear(ears: GrammarRecognizer | PocketSphinxRecognizer, pcm: bytes, rate: int) -> str:
    samples = np.frombuffer(pcm, dtype="<i2")
    pcm16k = np.asarray(soxr.resample(samples, rate, 16000), dtype="<i2").tobytes()
    ears.start()
    for frame in frames(bytes(9600) + pcm16k + bytes(9600)):
        ears.feed(frame)
    return ears.finish()


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is two plus two?", "2 plus 2 is 4."),  # "what is to do" with the general model
        ("Three times four.", "3 times 4 is 12."),
        ("What day is it?", "Today is Friday, the 1st of May 2026."),
        ("What is fifteen minus seven?", "15 minus 7 is 8."),
        ("What is your name?", "I'm the local voice agent."),
    ],
)
def test_hibari_questions_are_answered(synth: HibariSynthesizer, ears: GrammarRecognizer, brain: RulesBrain,
                                       question: str, answer: str) -> None:
    heard = hear(ears, synth.synthesize(question), synth.rate)
    assert brain.answer(heard)[0] == answer, heard


@pytest.mark.parametrize(
    ("voice", "question", "answer"),
    [
        ("en-us", "What is two plus two?", "2 plus 2 is 4."),
        ("en-us+f3", "What day is it?", "Today is Friday, the 1st of May 2026."),
        ("en-gb", "What can you do?", "I can tell you the time and the date, and do simple arithmetic."),
    ],
)
def test_espeak_questions_are_answered(ears: GrammarRecognizer, brain: RulesBrain,
                                       voice: str, question: str, answer: str) -> None:
    espeak = EspeakSynthesizer(voice)
    heard = hear(ears, espeak.synthesize(question), espeak.rate)
    assert brain.answer(heard)[0] == answer, heard


@pytest.mark.parametrize(
    ("voice", "speed", "question", "answer"),
    [("en-us+m7", 190, "Tell me the time.", "It's 9:00 AM."),
     ("en-029", 165, "Which day is it today?", "Today is Friday, the 1st of May 2026.")],
)
def test_the_grammar_search_keeps_a_sentence_to_the_end_of_the_utterance(
    brain: RulesBrain, voice: str, speed: int, question: str, answer: str
) -> None:
    # with PocketSphinx's default beams every path to the grammar's end was pruned on these
    # clips (a fresh decoder, as after the agent starts) and the search wrote nothing
    espeak = EspeakSynthesizer(voice, speed)
    grammar = PocketSphinxRecognizer(jsgf=brain.grammar())
    heard = hear(grammar, espeak.synthesize(question), espeak.rate)
    assert brain.answer(heard) == [answer], heard


def test_speech_outside_the_grammar_is_written_by_the_general_model(
    synth: HibariSynthesizer, ears: GrammarRecognizer, brain: RulesBrain
) -> None:
    heard = hear(ears, synth.synthesize("I would like to book a flight to London."), synth.rate)
    assert "flight" in heard.split()
    assert brain.answer(heard)[0].startswith("Sorry, I didn't understand")


def test_choose_keeps_the_grammar_unless_the_speech_was_plainly_something_else(brain: RulesBrain) -> None:
    ok = brain.understands
    assert choose("what is two plus two", "what is to do", ok) == "what is two plus two"
    assert choose("three times four", "free food for", ok) == "three times four"
    # a shorter garble with no word in common is the general model's failure, not other speech
    assert choose("how much is six times seven", "so it's easy to the", ok) == "how much is six times seven"
    assert choose("tell me the", "tell me a joke", ok) == "tell me a joke"  # the grammar stopped part way
    assert choose("", "", ok) == ""
    assert choose("twenty plus seventy six", "can you play some music for me", ok) == (
        "can you play some music for me")
    assert choose("hello there", "hello there what is the weather in paris today", ok) == (
        "hello there what is the weather in paris today")


def test_the_grammar_only_holds_sentences_the_brain_answers(brain: RulesBrain) -> None:
    grammar = brain.grammar()
    for sentence in ("what is twelve plus seven", "what's the time", "what day is it today", "help",
                     "hello what is the weather like", "what is a hundred and five divided by five"):
        assert brain.understands(sentence), sentence
    assert "seventy" in grammar and "divided by" in grammar and "what time is it" in grammar
    assert not brain.understands("tell me a joke")


def test_the_grammar_search_knows_each_word_by_its_first_pronunciation(tmp_path: Path) -> None:
    dictionary = tmp_path / "words.dict"
    dictionary.write_text("seven S EH1 V AH0 N\nseventy S EH1 V AH0 N T IY0\nseventy(2) S EH1 V AH0 N IY0\n"
                          "sevens S EH1 V AH0 N Z\ntwenty T W EH1 N T IY0\n", encoding="utf-8")
    assert primary_pronunciations(str(dictionary), frozenset({"seven", "seventy"})) == (
        "seven S EH1 V AH0 N\nseventy S EH1 V AH0 N T IY0\n")
    assert primary_pronunciations(str(dictionary), frozenset({"eleven"})) == ""
    grammar = PocketSphinxRecognizer(jsgf="#JSGF V1.0;\ngrammar g;\npublic <s> = seven | seventy;\n")
    assert grammar.pronunciation("seventy") == "S EH V AH N T IY"
    assert grammar.pronunciation("seventy(2)") is None and grammar.pronunciation("eleven") is None
    with pytest.raises(ValueError, match="missing from the pronunciation dictionary: gleeb"):
        PocketSphinxRecognizer(jsgf="#JSGF V1.0;\ngrammar g;\npublic <s> = seven | gleeb;\n")


def test_the_rules_brain_gets_constrained_ears_and_the_echo_brain_the_general_model() -> None:
    async def ears(brain: str) -> object:
        pool = build_voice(AgentConfig(brain=brain)).recognizers
        assert pool is not None
        return await pool.acquire()

    rules = asyncio.run(ears("rules"))
    echo = asyncio.run(ears("echo"))
    assert isinstance(rules, GrammarRecognizer)
    assert isinstance(echo, PocketSphinxRecognizer)


def test_the_development_set_shares_no_question_or_voice_with_the_benchmark_and_is_answered_typed(
    brain: RulesBrain,
) -> None:
    from benchmarks.bench_stt import DEV_QUESTIONS, DEV_VOICES, QUESTIONS, VOICES

    def norm(text: str) -> str:
        return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())

    assert not {norm(q) for q, _ in DEV_QUESTIONS} & {norm(q) for q, _ in QUESTIONS}
    assert not set(DEV_VOICES) & set(VOICES)
    for question, pattern in DEV_QUESTIONS + QUESTIONS:
        assert re.search(pattern, " ".join(brain.answer(norm(question)))), question
