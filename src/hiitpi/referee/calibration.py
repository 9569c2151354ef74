"""Self-calibrating progress of an exercise's primary signal through one repetition.

The referee counts cycles of one signal per exercise (the push-up's elbow angle, the squat's
knee angle, ...) against thresholds RELATIVE to the range this person shows in this set, so a
shallow mover, a stiff knee, a foreshortening camera or a person who never locks out still
counts, while the fixed standards (depth, lockout) judge each counted attempt separately.

``progress`` is 0 at this person's rest level and 1 at their usual turning point:

- values are first normalised by the definition's nominal range (``rest`` -> 0, ``turn`` -> 1),
  so every exercise uses the same fractions;
- the turning points and rest levels of the last few swings are found by a zig-zag detector
  (an extreme is confirmed once the signal retraces a fixed share of the usual range from it),
  and their medians are the calibrated rest and turn levels;
- before the first swing the prior is ``PRIOR_SHARE`` of the nominal range;
- the range used is never below ``min_range`` (in the signal's own units), so fidgeting,
  jitter or a pose model's wobble can never make a cycle.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from hiitpi.referee.definition import Signal

HISTORY = 3  # swings whose median sets the calibrated levels
MEDIAN_S = 0.1  # progress is the median of the samples of the last 0.1 s (3 at 30 fps, 1 at 10)
# Before the first swing the turning point is expected at this share of the nominal range: a
# person seen obliquely or moving less deep still has a first rep (the standards judge it).
PRIOR_SHARE = 0.7
RETRACE = 0.35  # an extreme is confirmed after the signal retraces this share of the range


class Calibrator:
    """Turns one signal's raw values into calibrated progress (one per body side)."""

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        span = signal.turn - signal.rest
        self._scale = span
        self._min_range = signal.min_range / abs(span)
        self._rests: deque[float] = deque(maxlen=HISTORY)
        self._turns: deque[float] = deque(maxlen=HISTORY)
        self.restart()

    def restart(self) -> None:
        """Forget the swing in progress (after a disarm); the calibrated levels stay."""
        self._seeking_turn = True
        self._extreme: float | None = None
        self._run_rest: float | None = None
        self._recent: deque[float] = deque(maxlen=3)
        self._window: deque[tuple[float, float]] = deque()

    def reanchor(self) -> None:
        """After an incomplete attempt: the rest level is where the person is now, so that
        holding still part-way down (with jitter) is not one attempt after another."""
        swinging = (
            self._extreme is not None
            and self._run_rest is not None
            and (not self._seeking_turn or self._extreme - self._run_rest >= self._min_range)
        )
        if self._recent and not swinging:
            level = statistics.median(self._recent)
            self._run_rest = level
            self._extreme = level
            self._seeking_turn = True

    def reset(self) -> None:
        """Forget everything: back to the prior."""
        self._rests.clear()
        self._turns.clear()
        self.restart()

    @property
    def rest_value(self) -> float:
        """The rest level of the swing in progress, in the signal's own units."""
        return self.signal.rest + self._rest_level() * self._scale

    def excursion(self, lows: dict[str, float], highs: dict[str, float]) -> float:
        """How far an attempt's extreme went from the rest level (signal units, >= 0)."""
        towards_low = self._scale < 0
        extreme = (lows if towards_low else highs).get(self.signal.feature, math.nan)
        if not math.isfinite(extreme):
            return 0.0
        return max(0.0, (extreme - self.rest_value) * (1.0 if self._scale > 0 else -1.0))

    @property
    def range(self) -> float:
        """The calibrated range in normalised units (1.0 = the nominal range)."""
        rest = self._rest_level()
        return max(self._turn_level(rest) - rest, self._min_range)

    def _rest_level(self) -> float:
        """The rest level this swing started from (the first value before any swing)."""
        return 0.0 if self._run_rest is None else self._run_rest

    def _midpoint(self) -> float:
        """Half way from the usual rest level to the usual turning point (normalised)."""
        rest = statistics.median(self._rests) if self._rests else 0.0
        return rest + 0.5 * max(self._turn_level(rest) - rest, self._min_range)

    def _turn_level(self, rest: float) -> float:
        if not self._turns:
            return rest + PRIOR_SHARE
        return statistics.median(self._turns)

    def update(self, value: float, t: float) -> float:
        """Feed one raw value at time ``t``; returns the progress (NaN while unknown).

        The progress is the median over the last ``MEDIAN_S`` seconds: jitter is suppressed
        at camera rates, while at 10 fps and below every frame counts on its own.
        """
        if not math.isfinite(value):
            return math.nan
        x = (value - self.signal.rest) / self._scale
        self._recent.append(x)
        # Extremes from a 3-sample median: one noisy frame does not move a level.
        self._track(statistics.median(self._recent))
        self._window.append((t, x))
        while self._window and (t - self._window[0][0] > MEDIAN_S - 1e-6 or t < self._window[0][0]):
            self._window.popleft()
        rest = self._rest_level()
        width = max(self._turn_level(rest) - rest, self._min_range)
        return (statistics.median(v for _, v in self._window) - rest) / width

    def _track(self, x: float) -> None:
        """The zig-zag: confirm an extreme once ``x`` retraces from it by the threshold."""
        typical = self.range
        retrace = max(self._min_range, RETRACE * typical)
        if self._extreme is None:
            # The first value is the rest level, unless it lies past the middle of the usual
            # range: a side first seen at its turning point (one arm of an alternating curl
            # after a dropout, say) is mid-repetition, not at rest.
            self._extreme = x
            self._run_rest = min(x, self._midpoint())
            return
        if self._seeking_turn:
            if self._run_rest is None or x < self._run_rest:
                self._run_rest = x  # still going rest-ward: the swing has not begun
                self._extreme = x
            self._extreme = max(self._extreme, x)
            if x < self._extreme - retrace and self._run_rest is not None:
                if self._extreme - self._run_rest >= self._min_range:
                    self._turns.append(self._extreme)
                    self._rests.append(self._run_rest)
                self._seeking_turn = False
                self._extreme = x
        else:
            self._extreme = min(self._extreme, x)
            if x > self._extreme + retrace:
                self._seeking_turn = True
                self._run_rest = self._extreme
                self._extreme = x
