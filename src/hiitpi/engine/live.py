"""The live engine: one per camera and the ONLY writer of workout state.

A capture thread fills a latest-frame slot (live video drops, never queues). The engine thread
takes the newest frame, runs pose -> referee, and hands to the live link every frame: the
state snapshot, rep events and metrics; each counted rep goes to the recorder first, whose
journal makes it durable before any screen hears of it (a restarted engine resumes from that
journal, never from the Redis snapshot). Only while somebody watches does it draw once and encode
once per frame (a blurred greyscale standby picture while no exercise runs); all viewers share
those bytes. Between frames it takes the commands (start, stop, set player) the link has read.
The link (:mod:`hiitpi.engine.link`) does every live-store call on a thread of its own, so
this thread only touches memory and a Redis outage never stops the referee.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hiitpi.config import Settings
from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.frame import Frame
from hiitpi.core.pose import Pose
from hiitpi.engine.camera import CameraAct, CameraWatch, camera_gone_message
from hiitpi.engine.commands import CommandHandler
from hiitpi.engine.failures import (
    HUD,
    PART_POSE,
    PART_RECORDER,
    PART_REFEREE,
    FrameFailures,
    kept_clause,
)
from hiitpi.engine.link import LiveLink
from hiitpi.engine.pace import PaceWatch
from hiitpi.engine.plan_run import PlanRun, SessionClock, SetKey
from hiitpi.engine.session import SetRecorder, ended_message, session_changes
from hiitpi.engine.timing import FrameTiming, budget
from hiitpi.engine.view import CameraView, LiveView
from hiitpi.errors import HiitPiError, StoreError
from hiitpi.live.base import Command, EngineSide, EngineStatus
from hiitpi.plans import load_plan
from hiitpi.pose.base import PoseEstimator
from hiitpi.referee import RefereePipeline, load_exercise
from hiitpi.sources.base import VideoSource
from hiitpi.sources.live import CaptureThread, LatestFrameSlot

log = logging.getLogger(__name__)

FPS_SMOOTHING = 0.1  # EMA weight of the newest frame interval
_LOG_EVERY_S = 5.0
BUDGET_WINDOW = 60  # frames in the rolling medians of the per-stage budget (2 s at 30 fps)
BUDGET_EVERY = 15  # recompute those medians every this many frames


class LiveEngine:
    """Runs the live pipeline for one camera on its own thread; explicit ``start``/``stop``.

    The owner opens ``source`` before ``start`` and closes it after ``stop``.
    """

    def __init__(
        self,
        source: VideoSource,
        estimator: PoseEstimator,
        store: EngineSide,
        settings: Settings,
        *,
        exercise: str | None = None,
        player: str = "",
        recorder: SetRecorder | None = None,
        backend_reason: str = "",
    ) -> None:
        self.source = source
        self.estimator = estimator
        self.store = store  # read directly only by ``_restore``, before the link starts
        self.link = LiveLink(store)  # every other live-store call, off this thread
        self.settings = settings
        self.recorder = recorder
        self.slot = LatestFrameSlot()
        self.capture = CaptureThread(source, self.slot)
        self.camera = CameraWatch(source)  # a live camera's comings and goings
        self.referee: RefereePipeline | None = None
        self.state: WorkoutState | None = None  # the last published workout (kept after stop)
        self.status = EngineStatus(
            source=source.id, backend=estimator.name, backend_reason=backend_reason, player=player
        )
        self.pace = PaceWatch(source.fps or 0.0, estimator.name)
        self.live_view = LiveView(
            self.link, settings.referee.confidence_floor, settings.web.jpeg_quality
        )
        self._initial_exercise = exercise
        self._files: dict[str, str] = {}  # exercise id -> the user's file it was started from
        # the set's clock: the referee's times are seconds into the set, from its first frame
        # (a camera's own clock runs from when it was opened)
        self._set_t0: float | None = None
        self._set_offset = 0.0  # where a resumed set's clock starts (its last state's t)
        self._pending: list[RepEvent] = []  # events of this frame, handed to the link next
        self.failures = FrameFailures()  # frames the pose model or the referee fail on
        self._unrecorded: list[RepEvent] = []  # counted, but the recorder raised: tried again
        self._last_frame_at = 0.0
        self._last_log: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hiitpi-engine", daemon=True)
        self._timings: deque[FrameTiming] = deque(maxlen=BUDGET_WINDOW)
        self.clock: SessionClock | None = None  # the running session's clock (pauses stop it)
        self.plan_run: PlanRun | None = None  # the plan being run (kept, done, after its end)
        self._set_key: SetKey | None = None  # the plan block the referee is on
        self.commands = CommandHandler(self)  # the web's commands, carried out here
        self.on_timing: Callable[[FrameTiming], None] | None = None  # e.g. ``hiitpi bench``

    @property
    def view(self) -> CameraView | None:
        """A camera that encodes the live view itself (set before start), or None."""
        return self.live_view.camera

    @view.setter
    def view(self, camera: CameraView | None) -> None:
        self.live_view.camera = camera

    @property
    def frames_rendered(self) -> int:
        return self.live_view.frames_rendered

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Resume or start the exercise, then start capture and the engine thread."""
        self.link.start()  # reads the command position: commands sent before now are stale
        self._restore()
        if self._initial_exercise is not None:
            self.start_exercise(self._initial_exercise)
        self.status = replace(self.status, running=True)
        self.live_view.start()
        self.capture.start()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.live_view.stop()
        self.capture.stop(timeout)
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.status = replace(self.status, running=False, fps=0.0)
        self._publish()
        self.link.stop()  # writes what is queued, trying for a moment if Redis is away

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _restore(self) -> None:
        """Carry on the set a crash left open, as the recorder's journal knows it.

        Never from the live store's snapshot: Redis saves now and then, so after a power cut its
        snapshot can be older than the reps already counted (resuming from it would reuse their
        indices), or show a set Done! already closed. The snapshot only says who was logged in
        and what the screen last showed when no set is open.
        """
        snap = None
        try:
            snap = self.store.get_state()
        except StoreError as exc:
            log.warning("live store unavailable at start-up: %s", exc)
        if snap is not None:
            self.status = replace(self.status, player=self.status.player or snap.status.player)
        open_set = None if self.recorder is None else self.recorder.open_set()
        if self.recorder is not None and self.recorder.plan_open:
            log.warning(
                "a plan was interrupted by an engine stop: its sets so far are saved; "
                "it does not resume (start it again)"
            )
            self.recorder.end(interrupted=True)
            self.recorder.end_plan(interrupted=True)
            self.status = replace(
                self.status, message="the workout was interrupted: its sets so far are saved"
            )
            return
        if open_set is None:
            if snap is not None and not snap.status.busy:
                self.state = snap.state  # the last set's final count, still on show
            return
        assert self.recorder is not None
        if self._initial_exercise is not None:  # told to start another: the open one is closed
            self.recorder.end(interrupted=True)
            return
        state = open_set.state or WorkoutState(exercise=open_set.workout, t=0.0)
        log.warning(
            "resuming %s at %d reps / %d no-reps: the set was still open when the engine "
            "last stopped (Done! ends a set)",
            open_set.workout,
            state.reps,
            state.no_reps,
        )
        self.status = replace(self.status, player=open_set.player, owner=open_set.owner)
        self.start_exercise(open_set.workout, resume=True)
        assert self.referee is not None
        self.referee.resume(state)
        self._set_offset = state.t
        self.state = self.referee.state

    # --- commands ----------------------------------------------------------------------------
    def start_exercise(
        self, exercise_id: str, *, resume: bool = False, key: SetKey | None = None
    ) -> None:
        """Referee ``exercise_id`` from the next frame, counting from zero.

        ``resume``: the set an interrupted engine left open goes on (history included).
        ``key``: the set is that block of the running plan.
        """
        ref = self._files.get(exercise_id, exercise_id)
        definition = load_exercise(ref, self.settings.user_exercises_dir)
        if ref != definition.id:  # a file: a resumed set finds it again by its id
            self._files[definition.id] = ref
        exercise_id = definition.id
        referee = RefereePipeline(definition, self.settings.referee)
        if self.referee is not None:
            self.stop_exercise()
        if key is None:  # a set on its own is a session of its own
            self.plan_run = None
            self.clock = SessionClock()
        self.referee = referee
        self._set_key = key
        self.estimator.reset()
        self._set_t0, self._set_offset = None, 0.0
        self.state = self.referee.state
        self._forget_failures()
        self._unrecorded = []  # a broken recorder's events of another set
        self.status = replace(self.status, active=True, error=None, message=None, correction=0)
        if self.recorder is not None:
            s = self.status
            self.recorder.begin(
                s.player,
                exercise_id,
                s.backend,
                s.source,
                resume=resume,
                block=None if key is None else key.block,
                round=None if key is None else key.round,
                target=None if key is None else key.target,
                owner=s.owner,
            )
        log.info("started %s for %r", exercise_id, self.status.player)

    def stop_exercise(self) -> None:
        """The set is done: stop refereeing, keep its last state on show, record it."""
        self._forget_failures()
        if self.referee is not None and self.plan_run is not None and self._set_key is not None:
            assert self.state is not None
            self.plan_run.record_reps(self._set_key, self.state.rep_times)
        ended = self.referee is not None
        if ended and self.recorder is not None:
            self.recorder.end(self.state)  # durable (journaled) before anyone is told
        self.referee = None
        self._set_key = None
        self.status = replace(self.status, active=False)
        if ended:
            self.link.save()  # once the next state (this set ended) is written

    def start_plan(self, plan_id: str) -> None:
        """Run plan ``plan_id`` from now: countdown, then its blocks, each one a set."""
        plan = load_plan(plan_id, self.settings.data_dir)
        self.end_session()
        self.clock = SessionClock()
        self.plan_run = PlanRun(plan, self.clock)
        self.state = None
        self.status = replace(self.status, error=None, message=None, correction=0, paused=False)
        if self.recorder is not None:
            self.recorder.begin_plan(self.status.player, plan.id, plan.name, plan.to_toml())
        log.info("started plan %s for %r", plan.id, self.status.player)
        self.tick_plan()

    def end_session(self, message: str | None = None) -> None:
        """End whatever runs (a plan and its set, or a set); ``message`` says why, to a person."""
        run = self.plan_run if self.plan_run is not None and not self.plan_run.state.done else None
        if run is not None:
            run.stop()
        self.stop_exercise()  # records the set, if one runs
        if run is not None and self.recorder is not None:
            self.recorder.end_plan()
        self.status = replace(self.status, active=False, message=message, paused=False)

    def tick_plan(self) -> None:
        """Move the plan on the session clock; start and end its sets as its intervals say."""
        run = self.plan_run
        if run is None or run.state.done:
            return
        count = self.state.reps if self.referee is not None and self.state is not None else 0
        run.advance(count)
        want = run.wanted()
        if self.referee is not None and want != self._set_key:
            self.stop_exercise()
        if want is not None and self.referee is None:
            self.start_exercise(want.exercise, key=want)
        if run.state.done and self.recorder is not None:
            self.recorder.end_plan()

    def apply(self, command: Command) -> None:
        """Carry out ``command`` (or refuse it) and publish the answer with the status."""
        self.commands.apply(command)

    def _poll_commands(self) -> None:
        for command in self.link.take_commands():
            log.info("command: %s", command)
            self.apply(command)

    # --- the loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_commands()
                self.tick_plan()
                waited = time.perf_counter()
                frame = self.slot.get(timeout=0.25)
                if frame is None:
                    self._idle()
                else:
                    self._step(frame, (time.perf_counter() - waited) * 1000.0)
            except StoreError as exc:  # not from the link (memory only): never wait on it here
                self._log_limited("store", "live store: %s", exc)
            except HiitPiError as exc:
                self._log_limited("engine", "engine: %s", exc)
                self.status = replace(self.status, error=str(exc))
            except Exception:  # keep refereeing: one bad frame must not end the set
                self._log_limited("crash", "engine step failed", exc_info=True)

    def _idle(self) -> None:
        """No new frame: say why (source ended or failed, camera away) and keep the status
        fresh."""
        if self.capture.ended:
            self._forget_failures()
            error = self.capture.error
            message = str(error) if error is not None else f"source {self.source.id} ended"
            if self.status.busy:  # the running set ends with the source, in words
                self.end_session(ended_message(self.source.id, error is not None))
                log.info("session ended: %s", self.status.message)
            health = {**self.status.health, "camera": self.camera.ended(message)}
            self.status = replace(
                self.status, error=message, fps=0.0, source_ended=True, health=health
            )
            self._stop.wait(0.25)
        else:
            self._watch_camera()
        self._publish()

    def _watch_camera(self) -> None:
        """A live camera that stopped delivering is being reconnected: say so ("waiting for
        camera"); a running set pauses after ``source.reconnect_pause_s`` and is closed after
        ``source.reconnect_end_s``; when frames are back the status is clean again and a set
        this paused goes on (``hiitpi.engine.camera``)."""
        paused = self.clock is not None and self.clock.paused
        self.status, act = self.camera.react(self.status, self.settings.source, paused)
        if act is CameraAct.RESUME and self.clock is not None:
            self.clock.resume()
        elif act is CameraAct.PAUSE and self.clock is not None:
            log.warning("the camera is gone for %.0f s: pausing the set", self.camera.down_s)
            self.clock.pause()
        elif act is CameraAct.END:
            log.warning("the camera is gone for %.0f s: closing the set", self.camera.down_s)
            self.end_session(camera_gone_message(self.camera.down_s))

    def _step(self, frame: Frame, wait_ms: float = 0.0) -> None:
        if not self.camera.ok:  # frames again after a camera loss (or the very first)
            self._watch_camera()
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
        pace = self._watch_pace(now)
        pose: Pose | None = None
        ms = referee_ms = 0.0
        failed: dict[str, Any] = {}
        if self.referee is not None and not self.status.paused:
            pose, ms, referee_ms, failed = self._referee_frame(frame)
        else:  # nothing refereed: nothing failing either
            failed = self.failures.idle(self.status)
        score = pose.score if pose is not None else 0.0
        frame_fields = dict(
            pace,
            **failed,
            fps=round(fps, 2),
            inference_ms=round(ms, 2),
            pose_score=round(score, 3),
            frames=self.status.frames + 1,
            dropped=self.slot.dropped,
            viewers=self.live_view.viewers,
        )
        with self.link.batch():  # the state and the JPEG go out in one round
            timing = self._hand_on(frame, pose, ms, score, wait_ms, referee_ms, frame_fields)
        self._record(timing)

    def _referee_frame(self, frame: Frame) -> tuple[Pose | None, float, float, dict[str, Any]]:
        """Pose and referee on ``frame``: (pose, pose ms, referee ms, status changes).

        A frame the model or the referee fails on is skipped, never the set: the count so far
        stays as it is (and in the journal), the live view goes on, and the status says what
        fails until frames work again (:mod:`hiitpi.engine.failures`).
        """
        assert self.referee is not None
        if self._set_t0 is None:
            self._set_t0 = frame.t
        set_t = self._set_offset + (frame.t - self._set_t0)
        pose: Pose | None = None
        ms = 0.0
        part = PART_POSE
        t0 = time.perf_counter()
        try:
            pose = self.estimator.estimate(frame)
            t1 = time.perf_counter()
            ms = (t1 - t0) * 1000.0
            part = PART_REFEREE
            state, events = self.referee.update(pose, set_t)
            part = PART_RECORDER
            events = self._unrecorded + events  # what it could not take before goes first
            self._unrecorded = events
            if self.recorder is not None:  # journaled (fsynced) before screens hear of a rep
                self.recorder.on_events(events, state)
            self._unrecorded = []
        except Exception as exc:
            return pose, ms, 0.0, self._failed(part, exc, frame.index)
        self.state = state
        self._pending.extend(events)
        referee_ms = (time.perf_counter() - t1) * 1000.0
        if not self.failures.failing:  # the usual frame: nothing to clear
            return pose, ms, referee_ms, {}
        return pose, ms, referee_ms, self.failures.worked(self.status, time.monotonic())

    def _failed(self, part: str, exc: Exception, index: int) -> dict[str, Any]:
        """The status changes for a frame that ``part`` (the pose model or the referee) failed
        on; logged with its traceback at most every few seconds."""
        error = f"{part} failed: {exc!r}"
        if part == PART_POSE:
            error = f"{part} ({self.estimator.name}) failed: {exc!r}"
        self._log_limited("frame", "frame %d: %s", index, error, exc_info=exc)
        s = self.state
        reps = 0 if s is None else max(0, s.reps + self.status.correction)  # as the page counts
        kept = ""  # a rep the recorder did not take is not kept: the message claims nothing
        if part != PART_RECORDER:
            unsaved = self.recorder.unsaved() if self.recorder is not None else None
            kept = kept_clause(reps, 0.0 if s is None else s.hold_s, unsaved)
        return self.failures.failed(self.status, part, error, kept)

    def _hand_on(
        self,
        frame: Frame,
        pose: Pose | None,
        ms: float,
        score: float,
        wait_ms: float,
        referee_ms: float,
        frame_fields: dict[str, Any],
    ) -> FrameTiming:
        """Metric, state (the status with ``frame_fields``) and (when someone watches) the
        JPEG to the live link; the timing."""
        t2 = time.perf_counter()
        if self.referee is not None and ms > 0:  # a pose was estimated (not paused, not failed)
            # before the state: whoever sees a state finds its metric; on the camera's clock: the
            # live chart appends across sets, so its x must not restart at 0 when a set begins
            self.link.add_metric(frame.t, ms, score)
        self._publish(frame_fields)
        counted_at = time.monotonic()
        publish_ms = (time.perf_counter() - t2) * 1000.0
        refereeing = self.referee is not None
        to_count = (counted_at - frame.captured) * 1000.0 if frame.captured and refereeing else None
        watched = self.live_view.watched()
        shown = self.state
        if self.failures.failing and shown is not None:  # the video says it too
            shown = replace(shown, message=HUD)
        if watched and self.view is not None:  # drawn and encoded by the camera
            self.live_view.show(refereeing, pose, shown)
        elif watched:
            draw_ms, encode_ms, put_ms = self.live_view.render(frame.image, refereeing, pose, shown)
            to_jpeg = (time.monotonic() - frame.captured) * 1000.0 if frame.captured else None
            return FrameTiming(
                frame.index, wait_ms, ms, referee_ms, publish_ms + put_ms, draw_ms, encode_ms,
                to_count, to_jpeg,
            )  # fmt: skip
        return FrameTiming(frame.index, wait_ms, ms, referee_ms, publish_ms, to_count=to_count)

    def _watch_pace(self, now: float) -> dict[str, Any]:
        """Falling behind the camera? And the backend's name and reason once a probe chose.
        The status fields that say so (for this frame's one replace of the status)."""
        name = self.estimator.name
        reason = getattr(self.estimator, "reason", "") or self.status.backend_reason
        pace = self.pace.update(now)
        if pace.falling_behind and not self.status.falling_behind:
            log.warning("%s", pace.warning)
        elif self.status.falling_behind and not pace.falling_behind:
            log.info("the pose engine keeps up again (%.0f fps)", pace.delivered_fps)
        out = {"falling_behind": pace.falling_behind, "warning": pace.warning}
        if name != self.status.backend or reason != self.status.backend_reason:
            self.pace.backend = name
            out |= {"backend": name, "backend_reason": reason}
        return out

    def _record(self, timing: FrameTiming) -> None:
        """Keep the rolling per-stage budget (published with the status) and pass ``timing`` on."""
        self._timings.append(timing)
        if self.status.frames % BUDGET_EVERY == 0:
            stages, latency = budget(self._timings)
            self.status = replace(self.status, stages_ms=stages, latency_ms=latency)
        if self.on_timing is not None:
            self.on_timing(timing)

    def _publish(self, changes: dict[str, Any] | None = None) -> None:
        """The status brought up to date (with ``changes``, in one replace) and the state, its
        status and this frame's events to the link."""
        fields = session_changes(
            self.status, self.state, self.clock, self.plan_run, self._set_key, self.recorder
        )
        if changes:
            fields = self._merged(fields, changes)
        health = fields.get("health", self.status.health)
        mine, old = self.link.health(), health.get("live_store")
        if old is None or any(old.get(k) != mine[k] for k in ("ok", "error", "outages")):
            # the link writes each state with its exact health and backlog anyway; this copy
            # (on a change only) is for readers in this process
            fields["health"] = {**health, "live_store": mine}
        self.status = replace(self.status, **fields)
        self.link.add_events(self._pending)  # before the state: a page that sees it finds them
        self._pending = []
        self.link.publish(self.state, self.status)

    def _merged(self, fields: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """``fields`` with ``changes`` over them; a ``health`` in ``changes`` holds only the
        parts it changes (:class:`FrameFailures`), laid over the others as they are now."""
        out = fields | changes
        if "health" in changes:
            out["health"] = {**fields.get("health", self.status.health), **changes["health"]}
        return out

    def _forget_failures(self) -> None:
        """Nothing is refereed from here on (a set starts, ends, or its source ended): a
        failure of the frames before is over."""
        changes = self.failures.idle(self.status)
        if changes:
            self.status = replace(self.status, **self._merged({}, changes))

    def _log_limited(
        self, key: str, msg: str, *args: object, exc_info: BaseException | bool = False
    ) -> bool:
        now = time.monotonic()
        if now - self._last_log.get(key, -_LOG_EVERY_S) < _LOG_EVERY_S:
            return False
        self._last_log[key] = now
        log.warning(msg, *args, exc_info=exc_info)
        return True
