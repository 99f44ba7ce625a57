"""The scenario file format, version 1 (YAML), as pydantic models.

Every object is closed: a misspelt field is an error, named with its file and line by
:mod:`voicecli.scenario.loader`. A turn has exactly one input (``say``, ``audio``,
``text``, ``silence``, ``wait_for``) and optional ``expect``-ations; the scenario has a
target (default: the built-in local agent), variables, settings and whole-scenario
expectations. The README section "Scenario files" documents each field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

VERSION = 1
INPUTS = ("say", "audio", "text", "silence", "wait_for")


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex: {exc}") from None
    return value


class Range(Closed):
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class ExpectedToolCall(Closed):
    name: str = Field(min_length=1)
    arguments: dict[str, Any] | None = None  # None: any arguments; else these keys with these values


class TurnExpect(Closed):
    reply_matches: str | None = None  # regex (case-insensitive) the agent's reply must match
    reply_contains_any: list[str] | None = Field(default=None, min_length=1)
    heard_matches: str | None = None  # regex the user transcript (what the agent heard) must match
    heard_contains_any: list[str] | None = Field(default=None, min_length=1)
    first_audio_within_ms: float | None = Field(default=None, gt=0)
    reply_audio_s: Range | None = None
    tool_calls: list[ExpectedToolCall] | None = None
    interrupted: bool | None = None
    no_reply: bool | None = None

    _check_regex = field_validator("reply_matches", "heard_matches")(_regex)


class Turn(Closed):
    say: str | None = Field(default=None, min_length=1)
    audio: str | None = Field(default=None, min_length=1)  # a file, relative to the scenario file
    text: str | None = Field(default=None, min_length=1)
    silence: float | None = Field(default=None, gt=0, le=600)  # seconds
    wait_for: str | None = Field(default=None, pattern=r"^[a-z][a-z_]*$")  # an event name
    timeout_s: float = Field(default=10.0, gt=0, le=600)  # how long wait_for waits
    barge_in_after: float | None = Field(default=None, ge=0, le=600)
    reply_wait_s: float | None = Field(default=None, gt=0, le=600)
    expect: TurnExpect = Field(default_factory=TurnExpect)

    @model_validator(mode="after")
    def _one_input(self) -> Turn:
        given = [name for name in INPUTS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a turn has exactly one of {', '.join(INPUTS)}; got "
                             + (", ".join(given) if given else "none"))
        return self

    @property
    def kind(self) -> str:
        return next(name for name in INPUTS if getattr(self, name) is not None)

    @property
    def needs_reply(self) -> bool:
        return self.kind not in ("silence", "wait_for") and not self.expect.no_reply


class TargetSpec(Closed):
    profile: str | None = None
    url: str | None = None
    dialect: str | None = None
    agent: str | None = None
    sample_rate: int | None = Field(default=None, ge=8000, le=48000)


class Settings(Closed):
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    reply_wait_s: float | None = Field(default=None, gt=0, le=600)
    greeting_wait_s: float = Field(default=2.0, ge=0, le=60)


class ScenarioExpect(Closed):
    latency_budget_ms: float | None = Field(default=None, gt=0)  # every reply's first audio within
    no_errors: bool = True
    clean_close: bool = True


class Scenario(Closed):
    version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    target: TargetSpec = Field(default_factory=TargetSpec)
    variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    client_tools: dict[str, Any] = Field(default_factory=dict)  # tool name -> the result it returns
    settings: Settings = Field(default_factory=Settings)
    expect: ScenarioExpect = Field(default_factory=ScenarioExpect)
    turns: list[Turn] = Field(min_length=1)
