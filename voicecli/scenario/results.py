"""What one scenario run observed and how it was scored: plain data, written as JSON (the
``scenarios`` of the versioned report, and ``result.json`` of a recording) and read back by
``voicecli replay``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from voicecli.scenario.attribution import SmokeReport, TurnReport


@dataclass
class Failure:
    turn: int | None  # None: the whole scenario
    expectation: str  # the expectation's field name, or "session" / "file"
    message: str

    def describe(self) -> str:
        where = f"turn {self.turn}" if self.turn is not None else "scenario"
        return f"{where}: {self.expectation}: {self.message}"


@dataclass
class TurnResult(TurnReport):
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name", "arguments"}
    events: list[str] = field(default_factory=list)  # event names seen during the turn, in order
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class ScenarioResult:
    name: str
    file: str
    ok: bool = False
    exit_code: int = 0
    error: str | None = None  # the session's own failure, if any
    duration_s: float = 0.0
    dialect: str = ""
    url: str = ""
    connect_ms: float | None = None
    session_ready_ms: float | None = None
    session_id: str | None = None
    greeting: str = ""
    clean_close: bool = False
    server_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    turns: list[TurnResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # the whole scenario's
    recording: str | None = None

    def all_failures(self) -> list[Failure]:
        return [*self.failures, *(f for turn in self.turns for f in turn.failures)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioResult:
        known = {f.name for f in fields(cls)}
        turn_known = {f.name for f in fields(TurnResult)}
        values = {k: v for k, v in data.items() if k in known}
        values["turns"] = [TurnResult(**{k: v for k, v in turn.items() if k in turn_known})
                           for turn in data.get("turns", [])]
        for turn in values["turns"]:
            turn.failures = [Failure(**f) for f in turn.failures]  # type: ignore[arg-type]
        values["failures"] = [Failure(**f) for f in data.get("failures", [])]
        return cls(**values)

    @classmethod
    def from_report(cls, name: str, file: str, report: SmokeReport, *, tool_calls: dict[int, list[Any]],
                    events: dict[int, list[str]], server_errors: list[str], clean_close: bool) -> ScenarioResult:
        turns = [TurnResult(**asdict(turn),
                            tool_calls=[{"name": c.name, "arguments": dict(c.arguments)}
                                        for c in tool_calls.get(turn.index, [])],
                            events=list(events.get(turn.index, [])))
                 for turn in report.turns]
        return cls(name=name, file=file, error=report.error, exit_code=report.exit_code, dialect=report.dialect,
                   url=report.url, connect_ms=report.connect_ms, session_ready_ms=report.session_ready_ms,
                   session_id=report.session_id, greeting=report.greeting, clean_close=clean_close,
                   server_errors=list(server_errors), warnings=list(report.warnings), turns=turns)
