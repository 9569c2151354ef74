"""The falling-behind watch, fed frame times from a fake clock (no model, no camera)."""

from __future__ import annotations

import pytest

from hiitpi.engine.pace import PaceWatch


def feed(watch: PaceWatch, fps: float, seconds: float, start: float) -> float:
    """Frames at ``fps`` for ``seconds`` from ``start``; returns the time after the last."""
    n = round(fps * seconds)
    for i in range(n):
        watch.update(start + i / fps)
    return start + n / fps if n else start


def test_30_of_30_fps_never_warns() -> None:
    watch = PaceWatch(30.0, "mediapipe-full")
    t = feed(watch, 30.0, 60.0, 100.0)
    pace = watch.update(t)
    assert not pace.falling_behind and pace.warning is None
    assert pace.delivered_fps == pytest.approx(30.0, abs=0.6)


def test_below_09_for_10_s_warns_with_advice_then_clears() -> None:
    watch = PaceWatch(30.0, "mediapipe-full")
    t = feed(watch, 30.0, 5.0, 0.0)
    t = feed(watch, 12.0, 9.5, t)  # 9.5 s below: not yet (the 2 s window lags a little)
    assert not watch.falling_behind
    t = feed(watch, 12.0, 2.5, t)
    pace = watch.update(t)
    assert pace.falling_behind
    assert pace.warning == (
        "The pose engine is falling behind (12 of 30 fps): choose a lighter model with "
        "--backend movenet or lower the camera resolution"
    )
    t = feed(watch, 30.0, 2.0, t)
    assert watch.falling_behind  # 3 s at the rate before it clears
    t = feed(watch, 30.0, 4.0, t)
    assert not watch.update(t).falling_behind and watch.update(t + 0.03).warning is None


def test_27_of_30_is_holding_and_26_is_behind() -> None:
    ok = PaceWatch(30.0)
    feed(ok, 27.5, 30.0, 0.0)
    assert not ok.falling_behind
    slow = PaceWatch(30.0)
    feed(slow, 26.0, 30.0, 0.0)
    assert slow.falling_behind


def test_a_short_dip_does_not_warn() -> None:
    watch = PaceWatch(30.0)
    t = feed(watch, 30.0, 5.0, 0.0)
    t = feed(watch, 10.0, 5.0, t)
    t = feed(watch, 30.0, 10.0, t)
    t = feed(watch, 10.0, 5.0, t)
    assert not watch.falling_behind


def test_on_a_light_model_the_advice_is_the_camera() -> None:
    watch = PaceWatch(30.0, "movenet-lightning")
    feed(watch, 10.0, 20.0, 0.0)
    assert watch.falling_behind
    assert watch.warning(10.0) == (
        "The pose engine is falling behind (10 of 30 fps): lower the camera resolution or "
        "frame rate"
    )


def test_unknown_camera_rate_never_warns_and_bad_parameters_fail() -> None:
    watch = PaceWatch(0.0)
    feed(watch, 1.0, 60.0, 0.0)
    assert not watch.falling_behind
    with pytest.raises(ValueError, match="0 < ratio <= 1"):
        PaceWatch(30.0, ratio=1.5)
