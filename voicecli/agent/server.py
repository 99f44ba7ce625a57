"""The local agent server: every dialect at its real path, plus plain HTTP endpoints, on one port.

``asyncio.start_server`` accepts the socket; the request head is read here. A ``GET``
with ``Upgrade: websocket`` goes through websockets' sans-I/O ``ServerProtocol`` to the
dialect registered at the path; a subprotocol that the dialect's ``accept`` names is
answered only when the client offered it. Other requests go to the HTTP endpoint
registry (:mod:`voicecli.agent.dialects`). Unknown paths get 404.

At most ``AgentConfig.max_sessions`` WebSocket sessions run at once: an upgrade beyond
that is refused with HTTP 503 (and ``Retry-After``) before the dialect or the key check
sees it, as a hosted service's front door at capacity answers; a slot is free again as
soon as a session ends. The speech models are loaded once, at start, and shared by the
sessions (:mod:`voicecli.agent.factory`): a session holds a recognizer only while its
user speaks.

Use it in-process::

    async with LocalAgent(AgentConfig(brain="echo")) as agent:
        print(agent.url)   # http://127.0.0.1:PORT

or from synchronous code: ``url, stop = start_in_thread(config)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from voicecli.agent import dialects
from voicecli.agent.config import AgentConfig
from voicecli.agent.dialects.voiceagent import VoiceAgentServer
from voicecli.agent.engine import Engine, EngineOptions
from voicecli.agent.factory import Voice, build_voice
from voicecli.agent.faults import FaultGate, FaultPlan, FaultSpecError
from voicecli.agent.interfaces import AgentOutput, HttpCall, HttpReply, KeyCheck, ServerDialect, UpgradeRequest
from voicecli.agent.keys import LocalKeys
from voicecli.agent.wsconn import FrameTap, WsSession

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 1 << 20
HEAD_TIMEOUT_S = 10.0


def _health(call: HttpCall, keys: KeyCheck) -> HttpReply:
    return HttpReply.json(200, {"status": "ok", "dialects": dialects.names()})


dialects.register_http("GET", "/healthz", _health)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method.upper(), target, headers


def _response(status: int, body: bytes, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> bytes:
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Status"
    more = "".join(f"{name}: {value}\r\n" for name, value in (extra or {}).items())
    head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: {content_type}\r\n{more}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + body


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

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
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
        if self._server is None:
            raise RuntimeError("start() the agent first")
        await self._server.serve_forever()

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
            method, target, headers = _parse_head(head)
        except (TimeoutError, asyncio.LimitOverrunError, ValueError):
            writer.write(_response(400, b'{"error":"bad request"}'))
            return
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "GET" and "websocket" in headers.get("upgrade", "").lower():
            if self.sessions >= self.max_sessions:
                log.info("refused WebSocket %s: at capacity (%d sessions)", parts.path, self.max_sessions)
                writer.write(_response(503, b'{"error":"the agent is at capacity; try again later"}',
                                       extra={"Retry-After": "1"}))
                return
            self.sessions += 1  # taken before the first await, so the cap is never exceeded
            try:
                await self._websocket(reader, writer, head, parts.path, query, headers)
            finally:
                self.sessions -= 1
        else:
            await self._http(reader, writer, method, parts.path, query, headers)

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str,
                    path: str, query: dict[str, str], headers: dict[str, str]) -> None:
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            writer.write(_response(413 if length > 0 else 400, b'{"error":"bad body length"}'))
            return
        body = await reader.readexactly(length) if length else b""
        handler, known = dialects.http_handler(method, path)
        if handler is None:
            status = 405 if known else 404
            writer.write(_response(status, b'{"error":"%s"}' % http.HTTPStatus(status).phrase.encode()))
            return
        call = HttpCall(method, path, query, headers, body, f"http://{headers.get('host', self.url[7:])}")
        try:
            reply = handler(call, self.keys)
        except Exception:  # noqa: BLE001
            log.exception("local agent: %s %s failed", method, path)
            reply = HttpReply.json(500, {"error": "internal server error"})
        log.info("%s %s: %d", method, path, reply.status)
        writer.write(_response(reply.status, reply.body, reply.content_type))
        await writer.drain()

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
            log.info("refused WebSocket %s: %d %s", path, status, text)
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
        chosen[0] = getattr(dialect, "subprotocol", None)
        response = proto.accept(request)  # type: ignore[arg-type]
        proto.send_response(response)
        for data in proto.data_to_send():
            if data:
                writer.write(data)
        if response.status_code != 101:
            return
        log.info("%s session open on %s%s", dialect.name, path, " with faults" if not plan.empty else "")
        await self._run_session(reader, writer, proto, dialect, FaultGate(plan))
        log.info("%s session closed", dialect.name)

    async def _run_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           proto: ServerProtocol, dialect: ServerDialect, gate: FaultGate) -> None:
        voice = self.voice
        assert voice is not None
        recognizer = voice.lease() if dialect.audio_out else None  # a recognizer only while the user speaks
        config = self.config
        # a dialect whose provider never speaks first says so (VoiceAgent: default_greeting "")
        greeting = config.greeting if config.greeting is not None else getattr(dialect, "default_greeting", None)
        options = EngineOptions(greeting=greeting, hangover_ms=config.vad_hangover_ms,
                                threshold_db=config.vad_threshold_db, min_speech_ms=config.vad_min_speech_ms,
                                barge_in=config.barge_in, chunk_ms=config.chunk_ms,
                                ping_interval=dialect.ping_interval, paced=dialect.paced, speed=config.speed,
                                reply_text_first=dialect.reply_text_first,
                                # a dialect may split replies its own way (VoiceAgent's groups)
                                chunker=getattr(dialect, "chunker", None))

        def make_engine(emit: Callable[[AgentOutput], None]) -> Engine:
            return Engine(brain=voice.make_brain(), synth=voice.synth, recognizer=recognizer,
                          input_rate=dialect.input_rate, output_rate=dialect.output_rate,
                          audio_out=dialect.audio_out, emit=emit, options=options,
                          client_tools=bool(getattr(dialect, "client_tools", False)))

        # the session's engine gives back a recognizer it holds when it closes (the listener)
        await WsSession(reader, writer, proto, dialect, gate, make_engine, self.tap).run()


def run_embedded(config: AgentConfig | None = None) -> LocalAgent:
    """An agent to use as ``async with run_embedded() as agent:`` (no key by default)."""
    return LocalAgent(config or AgentConfig(api_key=None))


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
