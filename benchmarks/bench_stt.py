"""How well the local agent understands the questions it invites, spoken by two synthesizers.

- ``stt_question_accuracy``: the share of QUESTIONS (what the greeting, ``help`` and the
  README invite) answered correctly by the local agent with the rules brain, each question
  spoken by every voice in VOICES (hibari, and espeak-ng with several voices and speeds), sent
  as a WAV through the real client (``run_smoke``, as ``voicecli smoke --audio``) over the
  Atoms protocol; a reply is correct when it matches the question's pattern.
  ``stt_question_accuracy_<voice>``: the same per voice (information only).
- ``stt_open_wer``: word error rate of the user transcripts on the open path (the echo brain,
  whose ears are the general language model) for the same clips; ``stt_grammar_wer``: the same
  on the rules brain's constrained ears (information only).
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
CONCURRENT = 4
KEY = "sk_bench_stt"
KEY_ENV = "VOICECLI_BENCH_STT_KEY"


def _label(synth: str, voice: str, speed: float) -> str:
    return "hibari" if synth == "hibari" else f"espeak_{re.sub(r'[^a-z0-9]+', '_', voice)}_{speed:g}"


def _clips(folder: Path) -> dict[str, list[Path]]:
    """Every question spoken by every voice, as WAV files: ``{voice label: [path per question]}``."""
    from voicecli.agent.speech.espeak import EspeakSynthesizer
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.audio.wav import write_wav

    clips: dict[str, list[Path]] = {}
    for synth_name, voice, speed in VOICES:
        synth: Any = (HibariSynthesizer(voice, speed=speed, seed=0) if synth_name == "hibari"
                      else EspeakSynthesizer(voice, int(speed)))
        label = _label(synth_name, voice, speed)
        paths = []
        for i, (question, _pattern) in enumerate(QUESTIONS):
            path = folder / f"{label}_{i:02d}.wav"
            write_wav(path, bytes(int(synth.rate * 0.3) * 2) + synth.synthesize(question), synth.rate)
            paths.append(path)
        clips[label] = paths
    return clips


async def _ask(url: str, clip: Path) -> tuple[str, str]:
    """One spoken question through the real client: (what the agent heard, what it said)."""
    from voicecli.cli.config import Target
    from voicecli.cli.smoke import Step, run_smoke

    target = Target(dialect="atoms", url=url, agent_id="bench", key_env=KEY_ENV)
    report = await run_smoke(target, [Step("audio", str(clip))], timeout=30.0, allow_insecure=True,
                             interrupt_after=None, out=None)
    turn = report.turns[0] if report.turns else None
    return (turn.user_transcript, turn.agent_transcript) if turn else ("", "")


async def _run_all(brain: str, clips: dict[str, list[Path]]) -> dict[str, list[tuple[str, str]]]:
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent

    gate = asyncio.Semaphore(CONCURRENT)

    async def ask(url: str, clip: Path) -> tuple[str, str]:
        async with gate:
            return await _ask(url, clip)

    async with LocalAgent(AgentConfig(brain=brain, api_key=KEY, greeting="")) as agent:
        results = {label: asyncio.gather(*(ask(agent.url, clip) for clip in paths))
                   for label, paths in clips.items()}
        return {label: list(await answers) for label, answers in results.items()}


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


def _wer(results: dict[str, list[tuple[str, str]]]) -> float:
    errors = total = 0
    for answers in results.values():
        for (question, _pattern), (heard, _said) in zip(QUESTIONS, answers, strict=True):
            e, n = word_errors(question, heard)
            errors, total = errors + e, total + n
    return errors / total if total else 1.0


def run() -> dict[str, float]:
    os.environ[KEY_ENV] = KEY
    with tempfile.TemporaryDirectory(prefix="bench_stt_") as tmp:
        clips = _clips(Path(tmp))
        rules = asyncio.run(_run_all("rules", clips))
        echo = asyncio.run(_run_all("echo", clips))
    figures: dict[str, float] = {}
    right = total = 0
    for label, answers in rules.items():
        ok = [bool(re.search(pattern, said)) for (_q, pattern), (_heard, said) in zip(QUESTIONS, answers, strict=True)]
        figures[f"stt_question_accuracy_{label}"] = sum(ok) / len(ok)
        right, total = right + sum(ok), total + len(ok)
        for (question, _p), (heard, said), good in zip(QUESTIONS, answers, ok, strict=True):
            if not good:
                print(f"  {label}: {question!r} heard {heard!r}, said {said!r}")
    figures["stt_question_accuracy"] = right / total
    figures["stt_grammar_wer"] = _wer(rules)
    figures["stt_open_wer"] = _wer(echo)
    return figures
