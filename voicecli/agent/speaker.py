"""The agent's mouth: one reply turn, from streamed text to paced audio chunks.

Sentences are synthesized in a thread one ahead of playback, so speech has no gaps
while the next sentence is being made. Audio leaves in ``chunk_ms`` chunks paced in
real time; the agent's cumulative transcript grows word by word with the audio sent,
so a cut-off turn reports exactly the words that went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Synthesizer,
    TalkStart,
    TalkStop,
    TextOut,
    TranscriptOut,
    TurnDone,
)

LATE_RESET_S = 0.1  # behind schedule by more than this: restart the clock, don't burst
_END = re.compile(r"(?<=[.!?…])\s+")


class _Chunker:
    """Whole sentences out of streamed text (the speech package's chunker when present)."""

    def __init__(self) -> None:
        self._inner: Any = None
        try:
            from voicecli.agent.speech.text import SentenceChunker

            self._inner = SentenceChunker()
        except ImportError:
            self._buffer = ""

    def feed(self, text: str) -> list[str]:
        if self._inner is not None:
            return list(self._inner.feed(text))
        self._buffer += text
        parts = _END.split(self._buffer)
        self._buffer = parts.pop()
        return [p for p in parts if p.strip()]

    def flush(self) -> list[str]:
        if self._inner is not None:
            return list(self._inner.flush())
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


class Speaker:
    def __init__(self, *, synth: Synthesizer, rate: int, audio_out: bool,
                 emit: Callable[[AgentOutput], None], chunk_ms: int = 40) -> None:
        self.synth = synth
        self.rate = rate
        self.audio_out = audio_out
        self.chunk_ms = chunk_ms
        self._emit = emit
        self.turn = 0
        self._talking_turn: int | None = None
        self._heard = ""
        self._seq = 0
        self._next_at: float | None = None

    @property
    def talking(self) -> bool:
        return self._talking_turn is not None

    def cut(self) -> tuple[int | None, str]:
        """Forget the turn in progress: (its number if it was audible, the text sent)."""
        turn, self._talking_turn = self._talking_turn, None
        return turn, self._heard

    async def speak(self, pieces: AsyncIterator[str], *, playback: bytes | None = None,
                    playback_rate: int = 0) -> None:
        """One agent turn. Cancelling it stops it at once (the engine reports the cut)."""
        self.turn += 1
        turn = self.turn
        self._heard, self._seq, self._next_at = "", 0, None
        self._talking_turn = None
        queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue(maxsize=2)
        producer = asyncio.create_task(self._produce(turn, pieces, queue))
        try:
            while not (queue.empty() and producer.done()):
                item = await queue.get()
                if item is None:
                    break
                await self._say(turn, *item)
            await producer
            if playback and self.audio_out:
                pcm = await asyncio.to_thread(self._convert, playback, playback_rate)
                if pcm:
                    self._start_talking(turn)
                    await self._play(turn, pcm, None, [])
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await producer
        if self._talking_turn == turn:
            self._emit(TranscriptOut("agent", self._heard, final=True, turn=turn))
            self._emit(TalkStop(turn))
            self._emit(TurnDone(turn, self._heard))
            self._talking_turn = None

    async def _produce(self, turn: int, pieces: AsyncIterator[str],
                       queue: asyncio.Queue[tuple[str, bytes] | None]) -> None:
        chunker = _Chunker()
        started = False
        previous = ""
        try:
            async for piece in pieces:
                if not piece:
                    continue
                # brains may yield whole sentences ("Hello!", "How can I help?") or raw deltas
                # that carry their own spaces: keep sentences apart either way
                if previous and previous[-1] in ".!?…" and not piece[0].isspace():
                    piece = " " + piece
                previous = piece
                if not started:
                    self._emit(TextOut("", turn, "start"))
                    started = True
                self._emit(TextOut(piece, turn, "delta"))
                for sentence in chunker.feed(piece):
                    await queue.put((sentence, await self._synthesize(sentence)))
            for sentence in chunker.flush():
                await queue.put((sentence, await self._synthesize(sentence)))
            if started:
                self._emit(TextOut("", turn, "stop"))
        finally:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def _synthesize(self, sentence: str) -> bytes:
        if not self.audio_out:
            return b""
        pcm = await asyncio.to_thread(self.synth.synthesize, sentence)
        return await asyncio.to_thread(self._convert, pcm, self.synth.rate)

    def _convert(self, pcm: bytes, rate: int) -> bytes:
        if rate == self.rate or not pcm:
            return pcm
        from voicecli.audio.resample import resample_pcm16

        return resample_pcm16(pcm, rate, self.rate)

    def _start_talking(self, turn: int) -> None:
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
        loop = asyncio.get_running_loop()
        size = max(2, self.rate * self.chunk_ms // 1000 * 2)
        total = len(pcm)
        for offset in range(0, total, size):
            chunk = pcm[offset:offset + size]
            now = loop.time()
            if self._next_at is None or now - self._next_at > LATE_RESET_S:
                self._next_at = now
            elif self._next_at > now:
                await asyncio.sleep(self._next_at - now)
            self._next_at += len(chunk) / 2 / self.rate
            self._emit(AudioOut(chunk, turn, self._seq, text=sentence))
            self._seq += 1
            if words:
                end = offset + len(chunk)
                self._reveal(turn, prefix, words, min(len(words), -(-end * len(words) // total)))
