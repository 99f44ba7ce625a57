"""One accepted WebSocket connection: bytes ↔ websockets' sans-I/O protocol ↔ dialect ↔ engine.

The read loop feeds socket bytes to ``ServerProtocol``, assembles messages, passes them
to the dialect and the dialect's inputs to the engine. Every output (the engine's and
the dialect's own) goes through one queue to the write loop, which encodes it, applies
the connection's faults and writes it. Pings are answered by ``ServerProtocol`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from voicecli.agent.engine import Engine
from voicecli.agent.faults import MALFORMED_FRAME, FaultGate
from voicecli.agent.interfaces import AgentOutput, Closing, ErrorOut, Frame, Ready, ServerDialect, UserInput

log = logging.getLogger(__name__)

FrameTap = Callable[[str, str, Frame], None]  # (dialect name, "client" | "server", frame)

CLOSE_WAIT_S = 3.0
GOING_AWAY = "going away"  # the cancel message of a shutdown that closes clients with 1001
READ_SIZE = 65536


class WsSession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 proto: ServerProtocol, dialect: ServerDialect, gate: FaultGate,
                 make_engine: Callable[[Callable[[AgentOutput], None]], Engine],
                 tap: FrameTap | None = None) -> None:
        self.reader = reader
        self.tap = tap
        self.writer = writer
        self.proto = proto
        self.dialect = dialect
        self.gate = gate
        self._queue: asyncio.Queue[tuple[float, AgentOutput | Frame | None]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self.engine = make_engine(self.emit)
        self._parts: list[bytes] = []
        self._text = False
        self._done = asyncio.Event()
        self._closing = False

    # ---- outputs -----------------------------------------------------------------------

    def emit(self, output: AgentOutput) -> None:
        self._queue.put_nowait((self._loop.time(), output))

    def _emit_raw(self, frame: Frame) -> None:
        self._queue.put_nowait((self._loop.time(), frame))

    def _flush(self) -> None:
        data = self.proto.data_to_send()
        if self.gate.stalled or self.writer.is_closing():
            return
        for chunk in data:
            if chunk:
                self.writer.write(chunk)
            else:
                with contextlib.suppress(OSError, RuntimeError):
                    self.writer.write_eof()

    def _send(self, frame: Frame) -> None:
        if self.proto.state is not State.OPEN:
            return
        if self.tap is not None:
            self.tap(self.dialect.name, "server", frame)
        if isinstance(frame, str):
            self.proto.send_text(frame.encode())
        else:
            self.proto.send_binary(frame)
        self._flush()
        self.gate.sent()

    def _close(self, code: int, reason: str = "") -> None:
        if self.proto.state is State.OPEN:
            self.proto.send_close(code, reason)
            self._flush()
        if not self._closing:
            self._closing = True
            self._loop.call_later(CLOSE_WAIT_S, self._abort)

    def _abort(self) -> None:
        self.writer.transport.abort()
        self._done.set()

    def _fire(self) -> bool:
        """Run due faults; True when the connection must stop writing."""
        while (action := self.gate.action()) is not None:
            log.info("fault injection: %s after %d frames", action, self.gate.frames_sent)
            if action == "close":
                self._close(self.gate.plan.close_code or 1011, "injected fault")
                return True
            if action == "drop":
                self._abort()
                return True
            if action == "stall":
                self.gate.stalled = True
                return True
            if action == "malformed":
                self._send(MALFORMED_FRAME)
            elif action == "error":
                for frame in self.dialect.encode(ErrorOut("internal_error", "injected fault")):
                    self._send(frame)
                self._close(4000, "injected fault")
                return True
        return False

    async def _write_loop(self) -> None:
        if self._fire():
            return
        while True:
            queued_at, item = await self._queue.get()
            if item is None:
                return
            due = self.gate.due(queued_at)
            delay = max(due - self._loop.time(), self.gate.pause_now())
            if delay > 0:
                await asyncio.sleep(delay)
            if self.gate.stalled:
                continue
            frames = [item] if isinstance(item, (str, bytes)) else self._encode(item)
            for frame in frames:
                self._send(frame)
                if self._fire():
                    return
            if isinstance(item, Closing):
                self._close(item.close_code, item.reason[:100])
                return
            if self.writer.transport.get_write_buffer_size() > 1 << 20:
                await self.writer.drain()

    def _encode(self, output: AgentOutput) -> list[Frame]:
        try:
            return self.dialect.encode(output)
        except Exception:  # noqa: BLE001 - skip the output, keep the session
            log.exception("dialect %s failed to encode %s", self.dialect.name, type(output).__name__)
            return []

    def _ready_timeout(self) -> None:
        if self.engine.started or self._closing or self._done.is_set():
            return
        for output in self.dialect.on_ready_timeout():
            self.emit(output)

    # ---- inputs ------------------------------------------------------------------------

    def _dispatch(self, message: Frame) -> None:
        try:
            items: list[UserInput | AgentOutput] = self.dialect.feed(message)
        except Exception:  # noqa: BLE001 - a dialect bug answers an error, not a dead socket
            log.exception("dialect %s failed on a client frame", self.dialect.name)
            items = [ErrorOut("internal_error", "the server failed to handle the message")]
        for item in items:
            if isinstance(item, UserInput):
                self.engine.handle(item)
            else:
                self.emit(item)
                if isinstance(item, Ready) and not self.engine.started:
                    self.engine.start(send_ready=False, input_rate=item.input_rate,
                                      output_rate=item.output_rate, greeting=item.greeting,
                                      text_only=item.text_only, prompt=item.prompt,
                                      language=item.language)

    def _on_frame(self, frame: WsFrame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._parts, self._text = [bytes(frame.data)], frame.opcode is Opcode.TEXT
        elif frame.opcode is Opcode.CONT:
            self._parts.append(bytes(frame.data))
        else:
            return  # ping (answered by the protocol), pong, close
        if not frame.fin:
            return
        data, self._parts = b"".join(self._parts), []
        message: Frame = data
        if self._text:
            try:
                message = data.decode("utf-8")
            except UnicodeDecodeError:
                self._close(1007, "invalid UTF-8")
                return
        if self.tap is not None:
            self.tap(self.dialect.name, "client", message)
        self._dispatch(message)

    async def _read_loop(self) -> None:
        while not self._done.is_set():
            data = await self.reader.read(READ_SIZE)
            if data:
                self.proto.receive_data(data)
            else:
                self.proto.receive_eof()
            for event in self.proto.events_received():
                if isinstance(event, WsFrame):
                    self._on_frame(event)
            self._flush()
            if not data or self.proto.state is State.CLOSED:
                return
            if self.proto.close_expected() and not self._closing:
                self._closing = True
                self._loop.call_later(CLOSE_WAIT_S, self._abort)

    # ---- the whole connection ----------------------------------------------------------

    async def run(self) -> None:
        writer_task = asyncio.create_task(self._write_loop())
        for frame in self.dialect.on_open():
            self._emit_raw(frame)
        if self.dialect.ready_on_open:
            self.engine.start()
        elif self.dialect.ready_timeout is not None:
            self._loop.call_later(self.dialect.ready_timeout, self._ready_timeout)
        try:
            await self._read_loop()
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError as exc:
            if GOING_AWAY in exc.args:  # the server is shut down: the client hears it going away
                self._close(1001, GOING_AWAY)
            raise
        finally:
            await self.engine.close()
            self._queue.put_nowait((0.0, None))
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer_task
            self.writer.close()
