"""A Locust user that holds voicecli scenario conversations (``pip install 'voicecli[load]'``).

    locust -f $(python -c 'import voicecli.load.locustfile as m; print(m.__file__)') \\
        --voicecli-scenario booking.yaml --voicecli-profile atoms --master
    locust -f ... --worker --master-host HOST           # on each load machine

Each simulated user runs the scenario again and again. The conversations run on asyncio,
in one helper process per Locust process (:mod:`voicecli.cli.load_service`, the same
engine as ``voicecli test`` and ``voicecli load``; greenlets wait for it cooperatively), so
gevent and asyncio never share a loop. Every conversation reports Locust request stats of
type ``voice``: ``connect``, ``ready`` (the provider's ready message), ``first audio`` and
``turn`` (per turn: end of input to first agent audio, and to the reply finished),
``frame lateness p99`` (the conversation's microphone frames against their 20 ms grid), and
``conversation`` (its whole duration), which is a Locust failure naming the turn and
expectation when the scenario failed. Options (also from the environment):
``--voicecli-scenario`` (``VOICECLI_SCENARIO``), ``--voicecli-url``, ``--voicecli-profile``,
``--voicecli-dialect``, ``--voicecli-agent``, ``--voicecli-config``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from typing import Any

import gevent
from gevent import subprocess
from gevent.event import AsyncResult
from gevent.lock import Semaphore
from locust import User, constant, events, task
from locust.exception import StopUser

OPTIONS = ("scenario", "url", "profile", "dialect", "agent", "config")


def _options(parser: Any) -> None:
    for name in OPTIONS:
        parser.add_argument(f"--voicecli-{name}", env_var=f"VOICECLI_{name.upper()}", default="",
                            help=f"voicecli: {'the scenario file' if name == 'scenario' else 'the target ' + name}")


_events: Any = events  # locust's hooks are untyped
_events.init_command_line_parser.add_listener(_options)


class ScenarioFailed(Exception):
    """A conversation that did not pass: its failures, each naming turn and expectation."""


class _Service:
    """The helper process of this Locust process, and the conversations waiting on it."""

    def __init__(self, options: Any) -> None:
        scenario = getattr(options, "voicecli_scenario", "")
        if not scenario:
            raise ScenarioFailed("no scenario: pass --voicecli-scenario FILE (or set VOICECLI_SCENARIO)")
        command = [sys.executable, "-m", "voicecli.cli.load_service", scenario]
        for name in OPTIONS[1:]:
            value = getattr(options, f"voicecli_{name}", "")
            if value:
                command += [f"--{name}", value]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ids = itertools.count(1)
        self.waiting: dict[int, AsyncResult] = {}
        self.fatal: str | None = None
        self.ready = AsyncResult()
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "fatal" in message:
                self.fatal = str(message["fatal"])
            elif "ready" in message:
                self.ready.set(True)
            elif message.get("id") in self.waiting:
                self.waiting.pop(message["id"]).set(message)
        self.fatal = self.fatal or f"the voicecli load service ended (exit {self.proc.wait()})"
        self.ready.set(False)
        for waiter in self.waiting.values():
            waiter.set({"fatal": self.fatal})
        self.waiting.clear()

    def converse(self) -> dict[str, Any]:
        if not self.ready.get() or self.fatal:
            return {"fatal": self.fatal}
        request_id = next(self.ids)
        waiter = AsyncResult()
        self.waiting[request_id] = waiter
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": request_id}) + "\n")
        self.proc.stdin.flush()
        reply: dict[str, Any] = waiter.get()
        return reply

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_service: _Service | None = None
_service_lock = Semaphore()


def service(options: Any) -> _Service:
    global _service
    with _service_lock:
        if _service is None:
            _service = _Service(options)
        return _service


def _stop_service(**_: Any) -> None:
    if _service is not None:
        _service.stop()


_events.quitting.add_listener(_stop_service)


class VoiceUser(User):
    """One simulated caller: the scenario's conversation, again and again."""

    wait_time = constant(0)

    @task
    def conversation(self) -> None:
        fire = self.environment.events.request.fire
        started = time.monotonic()
        try:
            reply = service(self.environment.parsed_options).converse()
        except ScenarioFailed as exc:
            reply = {"fatal": str(exc)}
        if "fatal" in reply:
            fire(request_type="voice", name="conversation", response_time=(time.monotonic() - started) * 1000,
                 response_length=0, exception=ScenarioFailed(reply["fatal"]), context={})
            raise StopUser()
        result = reply["result"]
        figures = [("connect", result.get("connect_ms")), ("ready", result.get("session_ready_ms"))]
        for turn in result.get("turns", []):
            figures += [("first audio", turn.get("first_audio_ms")), ("turn", turn.get("reply_ms"))]
        figures.append(("frame lateness p99", reply.get("lateness_ms_p99")))
        for name, value in figures:
            if value is not None:
                fire(request_type="voice", name=name, response_time=value, response_length=0, exception=None,
                     context={})
        failures = [f for f in result.get("failures", [])]
        failures += [f for turn in result.get("turns", []) for f in turn.get("failures", [])]
        problem = None
        if not result.get("ok"):
            problem = ScenarioFailed("; ".join(
                (f"turn {f['turn']}: " if f.get("turn") else "scenario: ") + f"{f['expectation']}: {f['message']}"
                for f in failures) or result.get("error") or "failed")
        fire(request_type="voice", name="conversation", response_time=result.get("duration_s", 0.0) * 1000,
             response_length=len(result.get("turns", [])), exception=problem, context={})
