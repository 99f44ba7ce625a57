"""The level meters redraw only when what they show changes."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from voicecli.tui.widgets import meters
from voicecli.tui.widgets.meters import LevelMeter


class _MeterApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LevelMeter("mic", id="mic")


@pytest.mark.asyncio
async def test_a_meter_redraws_only_when_its_bar_or_number_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meters, "MIN_REDRAW_S", 0.0)
    app = _MeterApp()
    async with app.run_test() as pilot:
        meter = app.query_one("#mic", LevelMeter)
        refreshes = 0
        original = meter.refresh

        def counting_refresh(*args: object, **kwargs: object) -> LevelMeter:
            nonlocal refreshes
            refreshes += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(meter, "refresh", counting_refresh)
        for _ in range(50):  # digital silence, polled over and over: nothing to redraw
            meter.set_level(-100.0)
        await pilot.pause()
        assert refreshes == 0
        meter.set_level(-30.2)
        await pilot.pause()
        drawn = refreshes
        assert drawn >= 1 and meter.level == -30.2
        for level in (-30.4, -29.8, -30.1):  # same bar, same whole dB shown
            meter.set_level(level)
        await pilot.pause()
        assert refreshes == drawn and meter.level == -30.2
        meter.set_level(-20.0)
        await pilot.pause()
        assert refreshes > drawn and meter.level == -20.0


def test_the_shown_look_is_bar_number_and_emphasis() -> None:
    assert LevelMeter.looks(-100.0) == (meters.bar(-100.0), "  --", False)
    assert LevelMeter.looks(-30.2) == LevelMeter.looks(-29.8)
    assert LevelMeter.looks(-30.2) != LevelMeter.looks(-31.0)
