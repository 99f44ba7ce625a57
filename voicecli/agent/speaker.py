"""The agent's mouth: one reply turn, from streamed text to audio chunks.

Three stages run side by side for a voice turn:

- the *reader* takes the brain's text as it streams: ``TextOut`` start/delta…/stop, the
  sentences for speech, and, as soon as the text is complete, ``ReplyText`` (unless the
  dialect wants it with the first audio);
- the *synthesizer* makes each sentence's audio in a thread, one sentence ahead of
  playback, so speech has no gaps while the next sentence is being made;
- the *player* sends it: ``TalkStart``, then ``AudioOut`` in ``chunk_ms`` chunks paced in
  real time with the agent's cumulative ``TranscriptOut`` growing word by word with the
  audio sent (so a cut-off turn reports exactly the words that went out); unpaced, one
  ``AudioOut`` per sentence as soon as it is synthesized. At the end: the final
  ``TranscriptOut``, ``TalkStop``, ``TurnDone``.

The pace comes from a :class:`Clock`: :class:`RealClock` (real time, or ``speed`` times
faster) or :class:`VirtualClock` (the same chunks, words and order, with no waiting at all),
which the local agent's tests use where they do not measure timing.

With ``reply_text_first`` the player holds the first audio until the whole text is known
and sends ``ReplyText`` before it. A text-only turn (``audio_out`` off) makes no audio and
waits for nothing: ``TextOut`` as the text streams, then ``ReplyText``, the final
``TranscriptOut`` with the whole text, and ``TurnDone``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ReplyText,
    TalkStart,
    TalkStop,
    TextOut,
    TranscriptOut,
    TurnDone,
)
from voicecli.agent.voice_contracts import Chunker, Synthesizer
from voicecli.pcm.sentences import SentenceChunker

LATE_RESET_S = 0.1  # behind schedule by more than this: restart the clock, don't burst


class Clock(Protocol):
    """What the player paces its chunks by (seconds of audio timeline)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The event loop's clock, ``speed`` times faster than real time (1.0: real time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed

    def now(self) -> float:
        return asyncio.get_running_loop().time() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


class VirtualClock:
    """A clock that jumps: sleeping moves it on at once (after yielding to the loop once),
    so paced audio goes out chunk by chunk, in order, as fast as it is made."""

    def __init__(self) -> None:
        self._now = 0.0

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)


def pace_clock(speed: float) -> Clock:
    """The clock for a speaking ``speed`` (1.0 real time; ``math.inf``: a virtual clock)."""
    return VirtualClock() if math.isinf(speed) else RealClock(speed)


class Speaker:
    def __init__(self, *, synth: Synthesizer, rate: int, audio_out: bool,
                 emit: Callable[[AgentOutput], None], chunk_ms: int = 40, paced: bool = True,
                 reply_text_first: bool = False, chunker: Callable[[], Chunker] | None = None,
                 clock: Clock | None = None) -> None:
        self.synth = synth
        self.rate = rate
        self.audio_out = audio_out
        self.chunk_ms = chunk_ms
        self.paced = paced
        self.reply_text_first = reply_text_first
        self._make_chunker: Callable[[], Chunker] = chunker or SentenceChunker
        self.clock: Clock = clock or RealClock()
        self._emit = emit
        self.turn = 0
        self._active_turn: int | None = None  # the turn has said something (text or audio)
        self._talking_turn: int | None = None  # ... and its audio has started
        self._heard = ""
        self._seq = 0
        self._next_at: float | None = None

    @property
    def talking(self) -> bool:
        return self._talking_turn is not None

    def cut(self) -> tuple[int | None, str, bool]:
        """Forget the turn in progress: (its number if it had said anything, the text
        sent, whether its audio had started)."""
        turn, self._active_turn = self._active_turn, None
        audible, self._talking_turn = self._talking_turn is not None, None
        return turn, self._heard, audible

    async def speak(self, pieces: AsyncIterator[str], *, playback: bytes | None = None,
                    playback_rate: int = 0) -> None:
        """One agent turn. Cancelling it stops it at once (the engine reports the cut)."""
        self.turn += 1
        turn = self.turn
        self._heard, self._seq, self._next_at = "", 0, None
        self._active_turn = self._talking_turn = None
        if not self.audio_out:
            await self._write(turn, pieces)
            return
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        audio: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue(maxsize=2)
        reader = asyncio.create_task(self._read(turn, pieces, sentences))
        maker = asyncio.create_task(self._synthesize_all(sentences, audio))
        replied = not self.reply_text_first
        try:
            while (item := await audio.get()) is not None:
                if not replied:
                    replied = self._reply(turn, await reader)
                await self._say(turn, *item)
            text = await reader
            await maker
            if not replied:
                self._reply(turn, text)
            if playback and self.audio_out:
                pcm = await asyncio.to_thread(self._convert, playback, playback_rate)
                if pcm:
                    self._start_talking(turn)
                    await self._play(turn, pcm, None, [])
        finally:
            for task in (reader, maker):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        if self._talking_turn == turn:
            self._emit(TranscriptOut("agent", self._heard, final=True, turn=turn))
            self._emit(TalkStop(turn))
            self._emit(TurnDone(turn, self._heard))
        self._active_turn = self._talking_turn = None

    def _reply(self, turn: int, text: str) -> bool:
        if text.strip():
            self._emit(ReplyText(turn, text))
        return True

    async def _write(self, turn: int, pieces: AsyncIterator[str]) -> None:
        """A text-only turn: the whole reply at once, no audio, no pacing."""
        text = await self._read(turn, pieces, None)
        if self.reply_text_first:
            self._reply(turn, text)
        if self._active_turn == turn:
            self._heard = " ".join(text.split())
            self._emit(TranscriptOut("agent", self._heard, final=True, turn=turn))
            self._emit(TurnDone(turn, self._heard))
        self._active_turn = None

    async def _read(self, turn: int, pieces: AsyncIterator[str],
                    sentences: asyncio.Queue[str | None] | None) -> str:
        """The brain's text → TextOut, sentences to synthesize; the whole text."""
        chunker = self._make_chunker()
        parts: list[str] = []
        try:
            async for piece in pieces:
                if not piece:
                    continue
                # brains may yield whole sentences ("Hello!", "How can I help?") or raw deltas
                # that carry their own spaces: keep sentences apart either way
                if parts and parts[-1][-1] in ".!?…" and not piece[0].isspace():
                    piece = " " + piece
                if not parts:
                    self._active_turn = turn
                    self._emit(TextOut("", turn, "start"))
                parts.append(piece)
                self._emit(TextOut(piece, turn, "delta"))
                if sentences is not None:
                    for sentence in chunker.feed(piece):
                        sentences.put_nowait(sentence)
            if sentences is not None:
                for sentence in chunker.flush():
                    sentences.put_nowait(sentence)
            if parts:
                self._emit(TextOut("", turn, "stop"))
        finally:
            if sentences is not None:
                sentences.put_nowait(None)
        text = "".join(parts)
        if not self.reply_text_first:
            self._reply(turn, text)
        return text

    async def _synthesize_all(self, sentences: asyncio.Queue[str | None],
                              audio: asyncio.Queue[tuple[str, bytes] | None]) -> None:
        failure: Exception | None = None
        try:
            while (sentence := await sentences.get()) is not None:
                await audio.put((sentence, await self._synthesize(sentence)))
        except Exception as exc:  # noqa: BLE001 - re-raised once the player is told
            failure = exc
        await audio.put(None)
        if failure is not None:
            raise failure

    async def _synthesize(self, sentence: str) -> bytes:
        pcm = await asyncio.to_thread(self.synth.synthesize, sentence)
        return await asyncio.to_thread(self._convert, pcm, self.synth.rate)

    def _convert(self, pcm: bytes, rate: int) -> bytes:
        if rate == self.rate or not pcm:
            return pcm
        from voicecli.audio.resample import resample_pcm16

        return resample_pcm16(pcm, rate, self.rate)

    def _start_talking(self, turn: int) -> None:
        self._active_turn = turn
        if self._talking_turn != turn:
            self._talking_turn = turn
            self._emit(TalkStart(turn))

    async def _say(self, turn: int, sentence: str, pcm: bytes) -> None:
        self._start_talking(turn)
        prefix = self._heard
        words = sentence.split()
        if not pcm:
            self._reveal(turn, prefix, words, len(words))
            return
        await self._play(turn, pcm, sentence, words, prefix)

    def _reveal(self, turn: int, prefix: str, words: list[str], count: int) -> None:
        text = " ".join(filter(None, [prefix, " ".join(words[:count])]))
        if text != self._heard:
            self._heard = text
            self._emit(TranscriptOut("agent", text, final=False, turn=turn))

    async def _play(self, turn: int, pcm: bytes, sentence: str | None, words: list[str],
                    prefix: str = "") -> None:
        if not self.paced:  # the whole piece at once, as fast as it was made
            self._emit(AudioOut(pcm, turn, self._seq, text=sentence, length=len(pcm) if sentence else 0))
            self._seq += 1
            if words:
                self._reveal(turn, prefix, words, len(words))
            return
        clock = self.clock
        size = max(2, self.rate * self.chunk_ms // 1000 * 2)
        total = len(pcm)
        for offset in range(0, total, size):
            chunk = pcm[offset:offset + size]
            now = clock.now()
            if self._next_at is None or now - self._next_at > LATE_RESET_S:
                self._next_at = now
            elif self._next_at > now:
                await clock.sleep(self._next_at - now)
            self._next_at += len(chunk) / 2 / self.rate
            self._emit(AudioOut(chunk, turn, self._seq, text=sentence, offset=offset,
                                length=total if sentence else 0))
            self._seq += 1
            if words:
                end = offset + len(chunk)
                self._reveal(turn, prefix, words, min(len(words), -(-end * len(words) // total)))
