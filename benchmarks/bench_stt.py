"""How well the local agent understands the questions it invites, spoken by two synthesizers.

- ``stt_question_accuracy``: the share of QUESTIONS (what the greeting, ``help`` and the
  README invite) answered correctly by the local agent with the rules brain, each question
  spoken by every voice in VOICES (hibari, and espeak-ng with several voices and speeds), sent
  as a WAV through the real client (``run_smoke``, as ``voicecli smoke --audio``) over the
  Atoms protocol, one session at a time, voices in turn; a reply is correct when it matches
  the question's pattern. ``stt_question_accuracy_<voice>``: the same per voice (information only).
- ``stt_direct_accuracy``: the same clips fed straight to the rules brain's recogniser (no
  wire, no timing), and ``stt_dev_direct_accuracy`` for the development set (DEV_QUESTIONS x
  DEV_VOICES: other wordings, numbers, voices and speeds). Recogniser settings are chosen on
  the development set only; QUESTIONS x VOICES is reported on, never tuned on.
- ``stt_open_wer``: word error rate of the user transcripts on the open path (the echo brain,
  whose ears are the general language model) for the same clips; ``stt_grammar_wer``: the same
  on the rules brain's constrained ears (information only).

``python -m benchmarks.bench_stt [bench|dev|both]`` prints the direct-feed figures only (a
few minutes of one core, no server).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Any

GOALS = {"stt_question_accuracy": (">=", 0.9)}

_TIME, _DATE, _HELP = r"^(Hello! )?It.s \d", r"^(Hello! )?Today is", r"I can tell you"
QUESTIONS: list[tuple[str, str]] = [  # (question, a pattern the reply must match)
    ("What time is it?", _TIME),
    ("What is the time?", _TIME),
    ("What is the date?", _DATE),
    ("What day is it?", _DATE),
    ("What is the date today?", _DATE),
    ("Help.", _HELP),
    ("What can you do?", _HELP),
    ("What is twelve plus seven?", r"\bis 19\."),
    ("What is two plus two?", r"\bis 4\."),
    ("Three times four.", r"\bis 12\."),
    ("What is one hundred divided by four?", r"\bis 25\."),
    ("What is nine minus two?", r"\bis 7\."),
    ("What is five times six?", r"\bis 30\."),
    ("What is twenty plus thirty?", r"\bis 50\."),
    ("What is eight divided by two?", r"\bis 4\."),
    ("What is fifteen minus seven?", r"\bis 8\."),
    ("Hello, how are you?", r"I'm doing well"),
    ("What is the weather like?", r"weather"),
    ("What is your name?", r"local voice agent"),
    ("Thank you.", r"welcome"),
    ("Goodbye.", r"^Goodbye"),
    ("How much is six times seven?", r"\bis 42\."),
    ("What is seven times eight?", r"\bis 56\."),
    ("What is one hundred plus twenty five?", r"\bis 125\."),
]
VOICES: list[tuple[str, str, float]] = [  # (synthesizer, voice, speed: factor or words per minute)
    ("hibari", "heart", 1.0),
    ("espeak-ng", "en-us", 175),
    ("espeak-ng", "en-gb", 140),
    ("espeak-ng", "en-us+f3", 200),
    ("espeak-ng", "en-gb-x-rp+m3", 160),
]
# The development set: other questions the greeting, `help` and the README invite (other
# wordings, other numbers, teens beside tens), spoken by other voices and speeds. The
# recogniser's settings are chosen on it; QUESTIONS x VOICES above are only reported on.
DEV_QUESTIONS: list[tuple[str, str]] = [
    ("What's the time?", _TIME),
    ("Tell me the time.", _TIME),
    ("Hi, what is the time?", _TIME),
    ("What is today's date?", _DATE),
    ("What year is it?", _DATE),
    ("Which day is it today?", _DATE),
    ("Help me.", _HELP),
    ("What do you do?", _HELP),
    ("What is eleven plus nine?", r"\bis 20\."),
    ("What is fifty plus fifteen?", r"\bis 65\."),
    ("What is sixteen minus six?", r"\bis 10\."),
    ("What is forty divided by eight?", r"\bis 5\."),
    ("What is three plus four?", r"\bis 7\."),
    ("Nine times nine.", r"\bis 81\."),
    ("What is thirteen times three?", r"\bis 39\."),
    ("How much is eighty minus eighteen?", r"\bis 62\."),
    ("What is a hundred over five?", r"\bis 20\."),
    ("Calculate seven plus seventy.", r"\bis 77\."),
    ("What is two hundred and ten minus ten?", r"\bis 200\."),
    ("What is twelve times twelve?", r"\bis 144\."),
    ("What is fourteen plus seventeen?", r"\bis 31\."),
    ("Who are you?", r"local voice agent"),
    ("Thanks.", r"welcome"),
    ("Bye.", r"^Goodbye"),
    ("What is the forecast today?", r"weather"),
    ("Good morning, how are you?", r"I'm doing well"),
]
DEV_VOICES: list[tuple[str, str, float]] = [
    ("hibari", "heart", 0.85),
    ("hibari", "heart", 1.2),
    ("espeak-ng", "en-us", 150),
    ("espeak-ng", "en-gb-scotland", 170),
    ("espeak-ng", "en-029", 165),
    ("espeak-ng", "en-us+m7", 190),
    ("espeak-ng", "en-gb-x-gbclan+f2", 150),
]
SMOKE_TIMEOUT_S = 120.0  # per clip: generous, so a loaded machine measures the ears, not its own load
KEY = "sk_bench_stt"
KEY_ENV = "VOICECLI_BENCH_STT_KEY"
Clips = dict[str, list[Path]]  # voice label -> one WAV per question


def _label(synth: str, voice: str, speed: float) -> str:
    if synth == "hibari":
        return "hibari" if speed == 1.0 else f"hibari_{speed:g}"
    return f"espeak_{re.sub(r'[^a-z0-9]+', '_', voice)}_{speed:g}"


def clips(folder: Path, questions: list[tuple[str, str]], voices: list[tuple[str, str, float]]) -> Clips:
    """Every question spoken by every voice, as WAV files (0.3 s of silence first)."""
    from voicecli.agent.speech.espeak import EspeakSynthesizer
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.audio.wav import write_wav

    made: Clips = {}
    for synth_name, voice, speed in voices:
        synth: Any = (HibariSynthesizer(voice, speed=speed, seed=0) if synth_name == "hibari"
                      else EspeakSynthesizer(voice, int(speed)))
        label = _label(synth_name, voice, speed)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, (question, _pattern) in enumerate(questions):
            path = folder / f"{label}_{i:02d}.wav"
            write_wav(path, bytes(int(synth.rate * 0.3) * 2) + synth.synthesize(question), synth.rate)
            paths.append(path)
        made[label] = paths
    return made


async def _ask(url: str, clip: Path) -> tuple[str, str]:
    """One spoken question through the real client: (what the agent heard, what it said)."""
    from voicecli.cli.config import Target
    from voicecli.cli.smoke import Step, run_smoke

    target = Target(dialect="atoms", url=url, agent_id="bench", key_env=KEY_ENV)
    report = await run_smoke(target, [Step("audio", str(clip))], timeout=SMOKE_TIMEOUT_S, allow_insecure=True,
                             interrupt_after=None, out=None)
    turn = report.turns[0] if report.turns else None
    return (turn.user_transcript, turn.agent_transcript) if turn else ("", "")


async def _smoke_all(brain: str, made: Clips) -> dict[str, list[tuple[str, str]]]:
    """Every clip through ``smoke --audio``, one session at a time (voices in turn)."""
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent

    async with LocalAgent(AgentConfig(brain=brain, api_key=KEY, greeting="")) as agent:
        return {label: [await _ask(agent.url, clip) for clip in paths] for label, paths in made.items()}


def _direct_all(recognizer: Any, made: Clips) -> dict[str, list[tuple[str, str]]]:
    """Every clip fed straight to ``recognizer`` (16 kHz, 20 ms chunks, 0.3 s of silence after),
    voices in turn, and answered by the rules brain: the ears without the wire or the timing."""
    from voicecli.agent.brains.rules import RulesBrain
    from voicecli.audio.wav import read_wav_mono
    from voicecli.pcm.convert import float_to_pcm16

    brain = RulesBrain()
    results: dict[str, list[tuple[str, str]]] = {}
    for label, paths in made.items():
        answers = []
        for path in paths:
            samples, _rate = read_wav_mono(path, recognizer.rate)
            pcm = float_to_pcm16(samples) + bytes(9600)
            recognizer.start()
            for i in range(0, len(pcm), 640):
                recognizer.feed(pcm[i : i + 640])
            heard = recognizer.finish()
            answers.append((heard, " ".join(brain.answer(heard))))
        results[label] = answers
    return results


def _accuracy(prefix: str, questions: list[tuple[str, str]], results: dict[str, list[tuple[str, str]]],
              show: bool = True) -> dict[str, float]:
    """``{prefix: share answered right, prefix_<voice>: the same per voice}``; misses printed."""
    figures: dict[str, float] = {}
    right = total = 0
    for label, answers in results.items():
        ok = [bool(re.search(pattern, said)) for (_q, pattern), (_heard, said) in zip(questions, answers, strict=True)]
        figures[f"{prefix}_{label}"] = sum(ok) / len(ok)
        right, total = right + sum(ok), total + len(ok)
        for (question, _p), (heard, said), good in zip(questions, answers, ok, strict=True):
            if show and not good:
                print(f"  {prefix} {label}: {question!r} heard {heard!r}, said {said!r}")
    figures[prefix] = right / total if total else 0.0
    return figures


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower().replace("what's", "what is")).split()


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref, hyp = _words(reference), _words(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def _wer(questions: list[tuple[str, str]], results: dict[str, list[tuple[str, str]]]) -> float:
    errors = total = 0
    for answers in results.values():
        for (question, _pattern), (heard, _said) in zip(questions, answers, strict=True):
            e, n = word_errors(question, heard)
            errors, total = errors + e, total + n
    return errors / total if total else 1.0


def direct(which: str = "both") -> dict[str, float]:
    """The direct-feed figures only (``stt_direct_accuracy``, ``stt_dev_direct_accuracy``): the
    rules brain's recogniser, as the server builds it, fed the clips of one or both sets."""
    from voicecli.agent.brains.rules import RulesBrain
    from voicecli.agent.speech.constrained import GrammarRecognizer

    brain = RulesBrain()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench_stt_") as tmp:
        for name, prefix, questions, voices in (("bench", "stt_direct_accuracy", QUESTIONS, VOICES),
                                                ("dev", "stt_dev_direct_accuracy", DEV_QUESTIONS, DEV_VOICES)):
            if which in (name, "both"):
                made = clips(Path(tmp) / name, questions, voices)
                ears = GrammarRecognizer(brain.grammar(), brain.understands)
                figures.update(_accuracy(prefix, questions, _direct_all(ears, made)))
    return figures


def run() -> dict[str, float]:
    os.environ[KEY_ENV] = KEY
    figures = direct()
    with tempfile.TemporaryDirectory(prefix="bench_stt_") as tmp:
        made = clips(Path(tmp), QUESTIONS, VOICES)
        rules = asyncio.run(_smoke_all("rules", made))
        echo = asyncio.run(_smoke_all("echo", made))
    figures.update(_accuracy("stt_question_accuracy", QUESTIONS, rules))
    figures["stt_grammar_wer"] = _wer(QUESTIONS, rules)
    figures["stt_open_wer"] = _wer(QUESTIONS, echo)
    return figures


if __name__ == "__main__":  # python -m benchmarks.bench_stt [bench|dev|both]: the direct-feed figures only
    import sys

    for key, value in direct(sys.argv[1] if len(sys.argv) > 1 else "both").items():
        print(f"{key} {value:.3f}")
