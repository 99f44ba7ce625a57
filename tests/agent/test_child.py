"""The embedded agent in a process of its own (what ``voicecli talk`` runs): it serves a
real session, lives in its own session (the terminal's Ctrl+C is the app's alone), and
is gone when the context ends."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys

import pytest

from tests.support.waiting import eventually
from voicecli.agent import child
from voicecli.agent.child import AgentProcessError, agent_process
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import SendText
from voicecli.protocol.events import TranscriptFinal
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_the_child_serves_a_session_and_ends_with_the_context() -> None:
    async with agent_process(greeting="", speech=False) as agent:
        assert agent.pid != os.getpid() and alive(agent.pid)
        if sys.platform != "win32":
            assert os.getsid(agent.pid) != os.getsid(0)  # Ctrl+C in the terminal is not its
            # below the app it serves: the app's keys and drawing come first
            ours = os.getpriority(os.PRIO_PROCESS, 0)
            assert os.getpriority(os.PRIO_PROCESS, agent.pid) == min(19, ours + child.CHILD_NICE)
        adapter = AtomsAdapter(DialectConfig(url=agent.url, agent_id="local", api_key=Secret("sk_local_embedded")))
        session = Session(adapter, ScriptedBackend(), SessionOptions())
        run = asyncio.create_task(session.run())
        said: list[str] = []

        async def collect() -> None:
            async for event in session.events():
                if isinstance(event, TranscriptFinal) and event.role == "agent":
                    said.append(event.text)

        events = asyncio.create_task(collect())
        assert await session.wait_started(10)
        session.submit(SendText("what is two plus two"))
        await eventually(lambda: said, "the agent's answer")
        session.close()
        await asyncio.wait_for(run, 10)
        await asyncio.wait_for(events, 5)
        pid = agent.pid
    assert said and "4" in said[0], said
    assert not alive(pid)


async def test_a_child_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    # a child interpreter that fails at once, as a broken install would
    monkeypatch.setattr(child, "_CHILD_ARGS", ("-c", "import sys; sys.stderr.write('boom: no module\\n'); sys.exit(3)"))
    with pytest.raises(AgentProcessError, match="the local agent did not start: boom: no module"):
        async with agent_process(speech=False):
            pass


async def test_a_child_that_reports_an_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(child, "_CHILD_ARGS", ("-c", "print('{\"error\": \"port in use\"}', flush=True)"))
    with pytest.raises(AgentProcessError, match="^the local agent did not start: port in use$"):
        async with agent_process(speech=False):
            pass


def test_a_child_stopped_by_a_cancelled_app_leaves_nothing_for_after_the_loop() -> None:
    """The app leaves at once: the task holding the child is cancelled while it waits for the
    child to stop, and the event loop closes right after. The child was killed then and left
    unreaped: its pipes' transports, closed by the garbage collector after the loop, printed
    "Event loop is closed" tracebacks as ``voicecli talk`` exited (3 runs in 3 here, 4 in 5
    when measured). Now it is reaped before the cancellation goes on."""
    unraisable: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
    pids: list[int] = []

    async def leave_at_once() -> None:
        started = asyncio.Event()

        async def serve() -> None:
            async with agent_process(greeting="", speech=False) as agent:
                pids.append(agent.pid)
                started.set()
                await asyncio.sleep(60)

        task = asyncio.create_task(serve())
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        await asyncio.sleep(0)  # the first cancellation ends the session: the child is being stopped
        task.cancel()  # the second lands in that stop
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        for _ in range(3):
            loop = asyncio.new_event_loop()
            loop.run_until_complete(leave_at_once())
            loop.close()  # at once, as an app that leaves
            del loop
            gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []
    assert len(pids) == 3 and not any(alive(pid) for pid in pids)
