"""The live engine: one per camera and the ONLY writer of workout state.

A capture thread fills a latest-frame slot (live video drops, never queues). The engine thread
takes the newest frame, runs pose -> referee, and publishes to the live store every frame: the
state snapshot (so reps already counted survive an engine crash: Redis holds them, and a
restarted engine resumes from them), rep events and metrics. Only while somebody watches does it
draw once and encode once per frame (a blurred greyscale standby picture while no exercise runs);
all viewers share those bytes. Between frames it polls the store's command channel (start, stop,
set player) without blocking.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import median
from typing import Protocol

from hiitpi.config import Settings
from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.errors import ExerciseError, HiitPiError, StoreError
from hiitpi.live.base import Command, CommandKind, EngineStatus, LiveStore, validate_player
from hiitpi.pose.base import PoseEstimator
from hiitpi.referee import RefereePipeline, load_exercise
from hiitpi.referee.catalog import is_path
from hiitpi.render import annotate, encode_jpeg, standby
from hiitpi.sources.base import VideoSource
from hiitpi.sources.live import CaptureThread, LatestFrameSlot

log = logging.getLogger(__name__)

VIEWER_CHECK_S = 0.2  # how often the viewer count is read from the store
FPS_SMOOTHING = 0.1  # EMA weight of the newest frame interval
_LOG_EVERY_S = 5.0
BUDGET_WINDOW = 60  # frames in the rolling medians of the per-stage budget (2 s at 30 fps)
BUDGET_EVERY = 15  # recompute those medians every this many frames


@dataclass(frozen=True, slots=True)
class FrameTiming:
    """One frame's trip through the engine, in ms; ``None`` for what did not happen.

    ``wait`` is the engine idle before the frame arrived (the slack); ``publish`` every write
    to the live store (state, events, metric and, when rendered, the JPEG). Latencies start at
    ``Frame.captured``: ``to_count`` ends once the state with this frame's count is published,
    ``to_jpeg`` once its JPEG is in the store.
    """

    index: int
    wait: float
    pose: float
    referee: float
    publish: float
    draw: float | None = None
    encode: float | None = None
    to_count: float | None = None
    to_jpeg: float | None = None


def budget(timings: Sequence[FrameTiming]) -> tuple[dict[str, float], dict[str, float]]:
    """Medians over ``timings``: (stages, latencies), keys without any value left out."""
    stages: dict[str, float] = {}
    latency: dict[str, float] = {}
    for name in ("wait", "pose", "referee", "publish", "draw", "encode"):
        values = [v for t in timings if (v := getattr(t, name)) is not None]
        if values:
            stages[name] = round(median(values), 2)
    for name in ("to_count", "to_jpeg"):
        values = [v for t in timings if (v := getattr(t, name)) is not None]
        if values:
            latency[name] = round(median(values), 2)
    return stages, latency


class SetRecorder(Protocol):
    """Where finished and running sets go (``hiitpi.engine.recorder.SessionRecorder``).

    Must not raise on a storage outage: the engine calls it from its frame loop.
    """

    def begin(
        self,
        player: str,
        workout: str,
        backend: str = "",
        source: str = "",
        *,
        resume: bool = False,
    ) -> int | None: ...

    def on_events(self, events: Sequence[RepEvent]) -> None: ...

    def end(self, state: WorkoutState | None = None) -> int | None: ...


class LiveEngine:
    """Runs the live pipeline for one camera on its own thread; explicit ``start``/``stop``.

    The owner opens ``source`` before ``start`` and closes it after ``stop``.
    """

    def __init__(
        self,
        source: VideoSource,
        estimator: PoseEstimator,
        store: LiveStore,
        settings: Settings,
        *,
        exercise: str | None = None,
        player: str = "",
        recorder: SetRecorder | None = None,
    ) -> None:
        self.source = source
        self.estimator = estimator
        self.store = store
        self.settings = settings
        self.recorder = recorder
        self.slot = LatestFrameSlot()
        self.capture = CaptureThread(source, self.slot)
        self.referee: RefereePipeline | None = None
        self.state: WorkoutState | None = None  # the last published workout (kept after stop)
        self.status = EngineStatus(source=source.id, backend=estimator.name, player=player)
        self.frames_rendered = 0
        self._initial_exercise = exercise
        self._files: dict[str, str] = {}  # exercise id -> the user's file it was started from
        # the set's clock: the referee's times are seconds into the set, from its first frame
        # (a camera's own clock runs from when it was opened)
        self._set_t0: float | None = None
        self._set_offset = 0.0  # where a resumed set's clock starts (its last state's t)
        self._pending: list[RepEvent] = []  # events not yet stored (Redis briefly away)
        self._command_pos = "0-0"
        self._viewers = 0
        self._viewers_checked = 0.0
        self._last_frame_at = 0.0
        self._last_log: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hiitpi-engine", daemon=True)
        self._timings: deque[FrameTiming] = deque(maxlen=BUDGET_WINDOW)
        self.on_timing: Callable[[FrameTiming], None] | None = None  # e.g. ``hiitpi bench``

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Resume or start the exercise, then start capture and the engine thread."""
        self._command_pos = self.store.last_command_id()  # commands sent before now are stale
        self._restore()
        if self._initial_exercise is not None:
            self.start_exercise(self._initial_exercise)
        self.status = replace(self.status, running=True)
        self.capture.start()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.capture.stop(timeout)
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.status = replace(self.status, running=False, fps=0.0)
        try:
            self._publish()
        except StoreError as exc:
            log.warning("final state not stored: %s", exc)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _restore(self) -> None:
        """Carry on a set that an engine crash interrupted: its counts are in the store."""
        snap = self.store.get_state()
        if snap is None:
            return
        self.status = replace(self.status, player=self.status.player or snap.status.player)
        if snap.status.active and snap.state is not None and self._initial_exercise is None:
            log.warning(
                "resuming %s at %d reps / %d no-reps: the set was still open when the engine "
                "last stopped (Done! ends a set)",
                snap.state.exercise,
                snap.state.reps,
                snap.state.no_reps,
            )
            self.start_exercise(snap.state.exercise, resume=True)
            assert self.referee is not None
            self.referee.resume(snap.state)
            self._set_offset = snap.state.t
            self.state = self.referee.state
        else:
            self.state = snap.state

    # --- commands ----------------------------------------------------------------------------
    def start_exercise(self, exercise_id: str, *, resume: bool = False) -> None:
        """Referee ``exercise_id`` from the next frame, counting from zero.

        ``resume``: the set an interrupted engine left open goes on (history included).
        """
        ref = self._files.get(exercise_id, exercise_id)
        definition = load_exercise(ref, self.settings.user_exercises_dir)
        if ref != definition.id:  # a file: a resumed set finds it again by its id
            self._files[definition.id] = ref
        exercise_id = definition.id
        referee = RefereePipeline(definition, self.settings.referee)
        if self.referee is not None:
            self.stop_exercise()
        self.referee = referee
        self.estimator.reset()
        self._set_t0, self._set_offset = None, 0.0
        self.state = self.referee.state
        self.status = replace(self.status, active=True, error=None)
        if self.recorder is not None:
            s = self.status
            self.recorder.begin(s.player, exercise_id, s.backend, s.source, resume=resume)
        log.info("started %s for %r", exercise_id, self.status.player)

    def stop_exercise(self) -> None:
        """The set is done: stop refereeing, keep its last state on show, record it."""
        if self.referee is not None and self.recorder is not None:
            self.recorder.end(self.state)
        if self.referee is not None:
            try:
                self.store.persist()
            except StoreError as exc:
                log.warning("could not save the live store to disk: %s", exc)
        self.referee = None
        self.status = replace(self.status, active=False)

    def apply(self, command: Command) -> None:
        if command.kind is CommandKind.START and command.exercise is not None:
            try:
                if is_path(command.exercise):  # a command never makes the engine read a file
                    raise ExerciseError(f"start {command.exercise!r}: commands name an exercise id")
                self.start_exercise(command.exercise)
            except ExerciseError as exc:
                self.status = replace(self.status, error=str(exc))
        elif command.kind is CommandKind.STOP:
            self.stop_exercise()
        elif command.kind is CommandKind.SET_PLAYER:
            self.status = replace(self.status, player=validate_player(command.player or ""))

    def _poll_commands(self) -> None:
        self._command_pos, commands = self.store.read_commands(self._command_pos)
        for command in commands:
            log.info("command: %s", command)
            self.apply(command)

    # --- the loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_commands()
                waited = time.perf_counter()
                frame = self.slot.get(timeout=0.25)
                if frame is None:
                    self._idle()
                else:
                    self._step(frame, (time.perf_counter() - waited) * 1000.0)
            except StoreError as exc:
                self._log_limited("store", "live store unavailable: %s", exc)
                self._stop.wait(0.2)
            except HiitPiError as exc:
                self._log_limited("engine", "engine: %s", exc)
                self.status = replace(self.status, error=str(exc))
            except Exception:  # keep refereeing: one bad frame must not end the set
                if self._log_limited("crash", "engine step failed"):
                    log.exception("engine step failed")

    def _idle(self) -> None:
        """No new frame: say why (source ended or failed) and keep the status fresh."""
        if self.capture.ended:
            error = self.capture.error
            message = str(error) if error is not None else f"source {self.source.id} ended"
            self.status = replace(self.status, error=message, fps=0.0, source_ended=True)
            self._stop.wait(0.25)
        self._publish()

    def _step(self, frame: Frame, wait_ms: float = 0.0) -> None:
        now = time.monotonic()
        if self._last_frame_at:
            fps = 1.0 / max(now - self._last_frame_at, 1e-6)
            fps = (
                fps
                if self.status.fps == 0
                else self.status.fps + FPS_SMOOTHING * (fps - self.status.fps)
            )
        else:
            fps = 0.0
        self._last_frame_at = now
        pose: Pose | None = None
        ms = referee_ms = 0.0
        set_t = 0.0
        if self.referee is not None:
            if self._set_t0 is None:
                self._set_t0 = frame.t
            set_t = self._set_offset + (frame.t - self._set_t0)
            t0 = time.perf_counter()
            pose = self.estimator.estimate(frame)
            t1 = time.perf_counter()
            ms = (t1 - t0) * 1000.0
            self.state, events = self.referee.update(pose, set_t)
            self._pending.extend(events)
            if self.recorder is not None:
                self.recorder.on_events(events)
            referee_ms = (time.perf_counter() - t1) * 1000.0
        score = pose.score if pose is not None else 0.0
        self.status = replace(
            self.status,
            fps=round(fps, 2),
            inference_ms=round(ms, 2),
            pose_score=round(score, 3),
            frames=self.status.frames + 1,
            dropped=self.slot.dropped,
            viewers=self._viewers,
        )
        t2 = time.perf_counter()
        if self.referee is not None:  # before the state: whoever sees a state finds its metric
            # on the camera's clock: the live chart appends across sets, so its x must not
            # restart at 0 when a new set begins
            self.store.append_metric(frame.t, ms, score)
        self._publish()
        counted_at = time.monotonic()
        publish_ms = (time.perf_counter() - t2) * 1000.0
        timing = FrameTiming(frame.index, wait_ms, ms, referee_ms, publish_ms)
        if frame.captured and self.referee is not None:
            timing = replace(timing, to_count=(counted_at - frame.captured) * 1000.0)
        if self._watched(now):
            draw_ms, encode_ms, put_ms = self._render(frame, pose)
            timing = replace(timing, draw=draw_ms, encode=encode_ms, publish=publish_ms + put_ms)
            if frame.captured:
                timing = replace(timing, to_jpeg=(time.monotonic() - frame.captured) * 1000.0)
        self._record(timing)

    def _record(self, timing: FrameTiming) -> None:
        """Keep the rolling per-stage budget (published with the status) and pass ``timing`` on."""
        self._timings.append(timing)
        if self.status.frames % BUDGET_EVERY == 0:
            stages, latency = budget(self._timings)
            self.status = replace(self.status, stages_ms=stages, latency_ms=latency)
        if self.on_timing is not None:
            self.on_timing(timing)

    def _publish(self) -> None:
        self.store.publish_state(self.state, self.status)
        while self._pending:
            self.store.append_event(self._pending[0])
            self._pending.pop(0)

    def _watched(self, now: float) -> bool:
        if now - self._viewers_checked >= VIEWER_CHECK_S:
            self._viewers = self.store.viewer_count()
            self._viewers_checked = now
        return self._viewers > 0

    def _render(self, frame: Frame, pose: Pose | None) -> tuple[float, float, float]:
        """Draw, encode and store the frame; returns those three durations in ms."""
        t0 = time.perf_counter()
        if self.referee is not None:
            image = annotate(frame.image, pose, self.state, self.settings.referee.confidence_floor)
        else:
            image = standby(frame.image)
        t1 = time.perf_counter()
        jpeg = encode_jpeg(image, self.settings.web.jpeg_quality)
        t2 = time.perf_counter()
        self.store.put_frame(jpeg)
        self.frames_rendered += 1
        t3 = time.perf_counter()
        return (t1 - t0) * 1000.0, (t2 - t1) * 1000.0, (t3 - t2) * 1000.0

    def _log_limited(self, key: str, msg: str, *args: object) -> bool:
        now = time.monotonic()
        if now - self._last_log.get(key, -_LOG_EVERY_S) < _LOG_EVERY_S:
            return False
        self._last_log[key] = now
        log.warning(msg, *args)
        return True
