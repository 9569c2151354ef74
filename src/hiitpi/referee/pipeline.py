"""What runs before and around the referee, the same live and offline: the main person, the
camera's view, and what the definition allows from that view.

``RefereePipeline.update(pose, t)`` (pure, like :meth:`Referee.update`):

1. :class:`PersonTracker`: a pose that is somebody else than the last one (a passer-by, a cut)
   disarms the referee, which re-arms only from the start pose.
2. :class:`ViewEstimator`: the smoothed camera view, published in the state with a confidence.
3. ``[views]`` of the definition: from a view it cannot count from, the referee sees no pose
   and the state says how to turn the camera; from a view it cannot judge form from, reps count
   with ``form_judged = False`` and the state says so.
"""

from __future__ import annotations

from dataclasses import replace

from hiitpi.config import RefereeConfig
from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.pose import Pose
from hiitpi.referee.definition import ExerciseDefinition
from hiitpi.referee.person import PersonTracker
from hiitpi.referee.referee import Referee
from hiitpi.referee.view import VIEW_PHRASES, View, ViewEstimator, ViewReading

MIN_VIEW_CONFIDENCE = 0.6  # a view less sure than this never stops counting or judging
MSG_NOT_JUDGED = "form is not judged from this angle"
MSG_SWITCH = "Someone else is in view: back to the start position to go on"


def turn_hint(definition: ExerciseDefinition) -> str:
    """ "Turn the camera to your side for Push-ups" (or the definition's own ``hint``)."""
    if definition.views.hint:
        return definition.views.hint
    count = definition.views.count
    if count == [View.SIDE]:
        return f"Turn the camera to your side for {definition.label}"
    phrases = " or ".join(VIEW_PHRASES[v] for v in count)
    return f"Turn the camera to see you {phrases} for {definition.label}"


class RefereePipeline:
    """Person tracking and view policy around one :class:`Referee` (one per camera)."""

    def __init__(self, definition: ExerciseDefinition, config: RefereeConfig | None = None) -> None:
        self.definition = definition
        self.referee = Referee(definition, config)
        self.person = PersonTracker()
        self.views = ViewEstimator(lying=definition.views.lying)
        self._switched = False
        self._state = self.referee.state

    @property
    def config(self) -> RefereeConfig:
        return self.referee.config

    @property
    def state(self) -> WorkoutState:
        return self._state

    @property
    def events(self) -> list[RepEvent]:
        return self.referee.events

    @property
    def view(self) -> ViewReading:
        return self.views.reading

    def reset(self) -> None:
        self.referee.reset()
        self.person.reset()
        self.views.reset()
        self._switched = False
        self._state = self.referee.state

    def resume(self, state: WorkoutState) -> None:
        """Carry on an interrupted set (see :meth:`Referee.resume`)."""
        self.referee.resume(state)
        self.person.reset()
        self.views.reset()
        self._switched = False
        self._state = self.referee.state

    def update(self, pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
        """Feed one frame's pose (None = nobody) at time ``t`` seconds."""
        return self.update_many([] if pose is None else [pose], t)

    def update_many(self, candidates: list[Pose], t: float) -> tuple[WorkoutState, list[RepEvent]]:
        """Feed one frame's candidate poses (backends that find several people): the main
        person's is refereed."""
        pose, switched = self.person.select(candidates, t, self.referee.state.armed)
        if switched:  # somebody else, or another shot: start over, from their start pose
            self.referee.new_person()
            self.views.reset()
            self._switched = True
        return self._referee_step(pose, t)

    def _referee_step(self, pose: Pose | None, t: float) -> tuple[WorkoutState, list[RepEvent]]:
        reading = self.views.update(pose, t)
        views = self.definition.views
        sure = reading.view is not None and reading.confidence >= MIN_VIEW_CONFIDENCE
        countable = not sure or reading.view in views.count
        judged = not sure or reading.view in views.judge
        self.referee.set_form_judging(judged, MSG_NOT_JUDGED)
        state, events = self.referee.update(pose if countable else None, t)
        if state.armed:
            self._switched = False
        message = state.message
        if not countable:
            message = turn_hint(self.definition)
        elif self._switched:
            message = MSG_SWITCH
        elif not judged and state.armed:
            message = f"{message}: {MSG_NOT_JUDGED}" if message else MSG_NOT_JUDGED.capitalize()
        self._state = replace(
            state,
            message=message,
            view=None if reading.view is None else reading.view.value,
            view_confidence=reading.confidence,
        )
        return self._state, events
