"""The local agent server: every dialect at its real path, plus plain HTTP endpoints, on one port.

``asyncio.start_server`` accepts the socket and h11 parses the request. A ``GET`` with
``Upgrade: websocket`` goes through websockets' sans-I/O ``ServerProtocol`` to the
dialect registered at the path; a subprotocol that the dialect's ``accept`` names is
answered only when the client offered it. Other requests (their bodies read by h11,
Content-Length or chunked, at most ``MAX_BODY``) go to the HTTP endpoint registry
(:mod:`voicecli.agent.dialects`) and are answered by h11. Unknown paths get 404, a known
path with another method 405, a malformed request 400, a body too long 413.

At most ``AgentConfig.max_sessions`` WebSocket sessions run at once: an upgrade beyond
that is refused with HTTP 503 (and ``Retry-After``) before the dialect or the key check
sees it, as a hosted service's front door at capacity answers; a slot is free again as
soon as a session ends. The speech models are loaded once, at start, and shared by the
sessions (:mod:`voicecli.agent.factory`): a session holds a recognizer only while its
user speaks.

Each session, and each refused upgrade, is logged in one line (dialect or path, peer,
close code or status) marked ``session_line`` for ``voicecli serve`` to print.
``stop()`` drops the connections as a dead server would; ``stop(going_away=True)`` (a
shut-down ``serve``) first sends each session close code 1001.

Use it in-process::

    async with LocalAgent(AgentConfig(brain="echo")) as agent:
        print(agent.url)   # http://127.0.0.1:PORT

or from synchronous code: ``url, stop = start_in_thread(config)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

import h11
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from voicecli.agent import dialects
from voicecli.agent.config import AgentConfig
from voicecli.agent.dialects.voiceagent import VoiceAgentServer
from voicecli.agent.engine import Engine, EngineOptions
from voicecli.agent.factory import Voice, build_voice
from voicecli.agent.faults import FaultGate, FaultPlan, FaultSpecError
from voicecli.agent.http11 import HttpExchange, phrase
from voicecli.agent.interfaces import AgentOutput, HttpCall, HttpReply, KeyCheck, ServerDialect, UpgradeRequest
from voicecli.agent.keys import LocalKeys
from voicecli.agent.wsconn import GOING_AWAY, FrameTap, WsSession

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 1 << 20
HEAD_TIMEOUT_S = 10.0


def _health(call: HttpCall, keys: KeyCheck) -> HttpReply:
    return HttpReply.json(200, {"status": "ok", "dialects": dialects.names()})


dialects.register_http("GET", "/healthz", _health)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"[{peer[0]}]:{peer[1]}" if ":" in str(peer[0]) else f"{peer[0]}:{peer[1]}"
    return str(peer or "?")


def _close_code(proto: ServerProtocol) -> str:
    """The close code the session ended with (the peer's, else ours), or how it was lost."""
    frame = proto.close_rcvd or proto.close_sent
    return f"close code {frame.code}" if frame is not None else "no close frame (connection lost)"


class LocalAgent:
    """The local agent server. ``await start()``, then use ``url``; ``await stop()``."""

    def __init__(self, config: AgentConfig | None = None, *, tap: FrameTap | None = None) -> None:
        """``tap`` sees every data frame of every session, both ways (conformance tests)."""
        self.config = config or AgentConfig()
        self.tap = tap
        self.keys = LocalKeys(self.config.api_key, self.config.agent_ids, self.config.public_agents)
        self.default_faults = FaultPlan.parse(self.config.faults)
        self.voice: Voice | None = None
        self.max_sessions = self.config.session_limit()
        self.sessions = 0  # WebSocket sessions open (or being opened) now
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def notices(self) -> list[str]:
        return list(self.voice.notices) if self.voice else []

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        dialects.load_all()
        if self.voice is None:
            self.voice = await asyncio.to_thread(build_voice, self.config)
        # a burst of connections up to the cap waits in the kernel's queue instead of being dropped
        self._server = await asyncio.start_server(self._on_client, host, port, limit=MAX_HEAD,
                                                  backlog=min(4096, max(128, self.max_sessions)))
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = host, int(sockname[1])
        log.info("local agent listening on %s", self.url)

    async def stop(self, going_away: bool = False) -> None:
        """Stop serving. ``going_away``: each session gets close code 1001 first (a server
        shut down); otherwise connections just drop (as when a server dies)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel(GOING_AWAY if going_away else None)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    async def __aenter__(self) -> LocalAgent:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Serve until cancelled, then leave the closing to :meth:`stop` (asyncio's own
        ``Server.serve_forever`` waits, from Python 3.12 on, for every client to leave
        first: a connected client would hold a cancelled server open, never told 1001)."""
        if self._server is None:
            raise RuntimeError("start() the agent first")
        await asyncio.get_running_loop().create_future()  # start_server is already serving

    # ---- one client --------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the work runs in a task of its own so that stop() can cancel it without
        # cancelling the stream's callback task (asyncio logs those as errors)
        task = asyncio.create_task(self._serve_client(reader, writer))
        self._tasks.add(task)
        try:
            await task
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except Exception:  # noqa: BLE001 - one bad client must not stop the server
            log.exception("local agent: connection failed")
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except asyncio.IncompleteReadError:
            return  # the client left before sending a whole request
        except (TimeoutError, asyncio.LimitOverrunError):
            head = b""
        exchange = HttpExchange(reader, writer, head, MAX_HEAD)
        try:
            request = exchange.request()
        except h11.RemoteProtocolError:
            exchange.reply(400, b'{"error":"bad request"}')
            return
        method = request.method.decode("ascii", "replace")
        headers = {bytes(name).decode("ascii", "replace"): bytes(value).decode("latin-1")
                   for name, value in request.headers}
        try:
            parts = urlsplit(request.target.decode("ascii", "replace"))
        except ValueError:
            exchange.reply(400, b'{"error":"bad request target"}')
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "GET" and "websocket" in headers.get("upgrade", "").lower():
            if self.sessions >= self.max_sessions:
                log.info("refused WebSocket %s: at capacity (%d sessions)", parts.path, self.max_sessions)
                exchange.reply(503, b'{"error":"the agent is at capacity; try again later"}',
                               extra={"Retry-After": "1"})
                return
            self.sessions += 1  # taken before the first await, so the cap is never exceeded
            try:
                await self._websocket(reader, writer, head, parts.path, query, headers)
            finally:
                self.sessions -= 1
        else:
            await self._http(exchange, method, parts.path, query, headers)

    async def _http(self, exchange: HttpExchange, method: str, path: str, query: dict[str, str],
                    headers: dict[str, str]) -> None:
        try:
            body = await exchange.body(MAX_BODY)
        except h11.RemoteProtocolError as exc:
            exchange.reply(exc.error_status_hint, b'{"error":"bad request body"}')
            return
        handler, known = dialects.http_handler(method, path)
        if handler is None:
            status = 405 if known else 404
            exchange.reply(status, b'{"error":"%s"}' % phrase(status))
            return
        call = HttpCall(method, path, query, headers, body, f"http://{headers.get('host', self.url[7:])}")
        try:
            reply = handler(call, self.keys)
        except Exception:  # noqa: BLE001
            log.exception("local agent: %s %s failed", method, path)
            reply = HttpReply.json(500, {"error": "internal server error"})
        log.info("%s %s: %d", method, path, reply.status)
        exchange.reply(reply.status, reply.body, reply.content_type)
        await exchange.writer.drain()

    def _faults(self, query: dict[str, str]) -> FaultPlan | str:
        spec = query.get("fault")
        if not spec:
            return self.default_faults
        if not self.config.allow_faults:
            return "fault injection is disabled on this server (start it with faults allowed)"
        try:
            return self.default_faults.merged(FaultPlan.parse(spec))
        except FaultSpecError as exc:
            return f"bad fault spec: {exc}"

    async def _websocket(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                         path: str, query: dict[str, str], headers: dict[str, str]) -> None:
        cls = dialects.dialect_for(path)
        chosen: list[str | None] = [None]  # the dialect's subprotocol, set by its accept()

        def select_subprotocol(_proto: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
            # only a protocol the client offered; a client that offers none gets none
            wanted = chosen[0]
            return Subprotocol(wanted) if wanted is not None and wanted in offered else None

        proto = ServerProtocol(max_size=cls.max_message if cls else 1 << 20, select_subprotocol=select_subprotocol)
        proto.receive_data(head)
        events = proto.events_received()
        request = events[0] if events else None
        plan = self._faults(query)

        def refuse(status: int, text: str) -> None:
            log.info("refused WebSocket %s from %s: %d %s", path, _peer(writer), status, text,
                     extra={"session_line": True})
            proto.send_response(proto.reject(status, text + "\n"))
            for data in proto.data_to_send():
                if data:
                    writer.write(data)

        if cls is None or request is None:
            refuse(404, f"no WebSocket endpoint at {path}")
            return
        if isinstance(plan, str):
            refuse(400, plan)
            return
        if plan.reject_status is not None:
            refuse(plan.reject_status, "injected fault")
            return
        dialect = cls()
        dialect.variants = plan.variants
        if isinstance(dialect, VoiceAgentServer):
            dialect.require_key = self.config.voiceagent_auth
        rejection = dialect.accept(UpgradeRequest(path, query, headers), self.keys)
        if rejection is not None:
            refuse(rejection.status, rejection.body)
            return
        chosen[0] = dialect.subprotocol
        response = proto.accept(request)  # type: ignore[arg-type]
        proto.send_response(response)
        for data in proto.data_to_send():
            if data:
                writer.write(data)
        if response.status_code != 101:
            return
        log.info("%s session open on %s%s", dialect.name, path, " with faults" if not plan.empty else "")
        try:
            await self._run_session(reader, writer, proto, dialect, FaultGate(plan))
        finally:  # one line per session for `voicecli serve`: dialect, peer, close code
            log.info("%s session from %s closed: %s", dialect.name, _peer(writer), _close_code(proto),
                     extra={"session_line": True})

    async def _run_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           proto: ServerProtocol, dialect: ServerDialect, gate: FaultGate) -> None:
        voice = self.voice
        assert voice is not None
        recognizer = voice.lease() if dialect.audio_out else None  # a recognizer only while the user speaks
        config = self.config
        # a dialect whose provider never speaks first says so (VoiceAgent: default_greeting "")
        greeting = config.greeting if config.greeting is not None else dialect.default_greeting
        options = EngineOptions(greeting=greeting, hangover_ms=config.vad_hangover_ms,
                                threshold_db=config.vad_threshold_db, min_speech_ms=config.vad_min_speech_ms,
                                barge_in=config.barge_in, chunk_ms=config.chunk_ms,
                                ping_interval=dialect.ping_interval, paced=dialect.paced, speed=config.speed,
                                reply_text_first=dialect.reply_text_first,
                                # a dialect may split replies its own way (VoiceAgent's groups)
                                chunker=dialect.chunker)

        def make_engine(emit: Callable[[AgentOutput], None]) -> Engine:
            return Engine(brain=voice.make_brain(), synth=voice.synth, recognizer=recognizer,
                          input_rate=dialect.input_rate, output_rate=dialect.output_rate,
                          audio_out=dialect.audio_out, emit=emit, options=options,
                          client_tools=dialect.client_tools)

        # the session's engine gives back a recognizer it holds when it closes (the listener)
        await WsSession(reader, writer, proto, dialect, gate, make_engine, self.tap).run()


def start_in_thread(config: AgentConfig | None = None, host: str = "127.0.0.1",
                    port: int = 0) -> tuple[str, Callable[[], None]]:
    """Run a :class:`LocalAgent` on its own event loop in a daemon thread.

    Returns the agent's URL and a function that stops it (idempotent).
    """
    agent = LocalAgent(config)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(agent.start(host, port))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            failure.append(exc)
            started.set()
            loop.close()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(agent.stop())
        loop.close()

    thread = threading.Thread(target=run, name="voicecli-local-agent", daemon=True)
    thread.start()
    started.wait()
    if failure:
        raise failure[0]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    return agent.url, stop
