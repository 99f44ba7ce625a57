"""What a scripted conversation (``voicecli smoke``, scenarios) reports, and which agent
turns answer which scripted turn.

The runner puts a :class:`~voicecli.session.events.Mark` in the session's event stream as
each scripted turn starts; the transcript turns from one mark to the next are that
turn's: the user's words the provider heard, the agent's replies (``replies``, in order,
one entry per agent turn, joined in ``agent_transcript``) and their audio. Since the
transcript files every piece of a reply under the reply's own turn (whatever order text
and audio came in), a late piece counts for the turn that asked for it. The runner starts
the next turn only once a reply has begun after the input's last speech, so an utterance
the agent splits in two (a pause inside a clip) reports both replies on its turn; inputs
the agent merges into one (clips back to back) report the reply on the turn during which
it began, and the earlier turn says ``no_reply``.

:func:`verdict` decides the outcome: a turn is answered when its reply finished (the runner
sets ``reply_ms`` only then) and holds text or audio; the first turn that is not, or that
never began, is named in the error, with the exit code of whatever ended the session.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from voicecli.errors import ProtocolError, SessionTimeout
from voicecli.session.events import SessionClosed
from voicecli.session.transcript import Transcript, Turn


@dataclass
class TurnReport:
    index: int
    input: str  # "text" | "audio"
    content: str
    first_audio_ms: float | None = None
    reply_ms: float | None = None  # input end → reply finished
    agent_audio_s: float = 0.0
    user_transcript: str = ""
    agent_transcript: str = ""
    replies: list[str] = field(default_factory=list)
    no_reply: bool = True
    interrupted: bool = False
    answered: bool = False  # the agent replied (text or audio) and the reply finished


@dataclass
class SmokeReport:
    ok: bool = False
    dialect: str = ""
    url: str = ""
    connect_ms: float | None = None
    session_ready_ms: float | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    greeting: str = ""
    turns: list[TurnReport] = field(default_factory=list)
    agent_audio_s: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    exit_code: int = 0


def _speech(turns: list[Turn], role: str) -> list[Turn]:
    return [t for t in turns if t.role == role and t.kind == "speech"]


def _said(turns: list[Turn]) -> str:
    return " ".join(t.text.strip() for t in turns if t.text.strip())


def attribute(report: SmokeReport, transcript: Transcript, boundaries: list[int]) -> None:
    """Fill the greeting and each turn's transcripts, audio seconds and interruption from
    the transcript, split at ``boundaries`` (the transcript length at each turn's start)."""
    turns = transcript.turns
    edges = [*boundaries, len(turns)]
    report.greeting = _said(_speech(turns[: edges[0]], "agent"))
    for number, turn_report in enumerate(report.turns):
        if number + 1 >= len(edges):
            break  # the session ended before this turn began
        mine = turns[edges[number]: edges[number + 1]]
        replies = _speech(mine, "agent")
        turn_report.user_transcript = _said(_speech(mine, "user"))
        turn_report.replies = [t.text.strip() for t in replies if not t.empty]
        turn_report.no_reply = not [t for t in replies if not t.empty]
        turn_report.agent_transcript = _said(replies)
        turn_report.agent_audio_s = round(sum(t.audio_s for t in replies), 3)
        turn_report.interrupted = any(t.interrupted for t in replies)


def verdict(report: SmokeReport, closed: SessionClosed | None, *, started: bool, planned: int,
            heard: Collection[int] = (), closed_by_us: bool = False,
            needs_reply: Collection[int] | None = None) -> None:
    """Set ``answered`` on each turn and the report's ``ok``, ``error`` and ``exit_code``.
    ``heard``: turns the agent sent text or audio for after their input (where the
    provider gives replies no identity, a reply may sit on an earlier transcript turn).
    ``closed_by_us``: every step ran and the runner ended the session itself (a turn left
    without a reply then got none in its time; the session did not end during it).
    ``needs_reply``: the turns that fail without a reply (default: all); the others (a
    scenario's silence, or a turn expected to get none) are judged by their caller."""
    for turn in report.turns:
        said = bool(turn.agent_transcript.strip()) or turn.agent_audio_s > 0 or turn.index in heard
        turn.answered = turn.reply_ms is not None and said
    must = [t for t in report.turns if needs_reply is None or t.index in needs_reply]
    cut = next((t.index for t in must if t.reply_ms is None), None)
    if cut is not None:
        where = f"during turn {cut}"
    elif len(report.turns) < planned:
        where = f"before turn {len(report.turns) + 1}"
    else:
        where = f"after turn {planned}" if planned else ""
    if closed is not None and closed.error:
        report.error = f"{closed.error} ({where})" if where and started else closed.error
        report.exit_code = closed.exit_code or ProtocolError.exit_code
    elif not started:
        report.error = "the session never started"
        report.exit_code = ProtocolError.exit_code
    elif closed is not None and not where.startswith("after") and not closed_by_us:
        code = f" (code {closed.close_code})" if closed.close_code is not None else ""
        report.error = f"the session ended {where}: {closed.reason}{code}"
        report.exit_code = ProtocolError.exit_code
    elif cut is not None:
        report.error = f"no reply to turn {cut}"
        report.exit_code = SessionTimeout.exit_code
    else:
        silent = next((t.index for t in must if not t.answered), None)
        if silent is not None:
            report.error = f"no reply to turn {silent} (the agent sent neither text nor audio)"
            report.exit_code = SessionTimeout.exit_code
    report.ok = report.exit_code == 0
