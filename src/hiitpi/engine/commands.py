"""The web's commands, carried out by the engine that owns the station (its only writer).

:func:`hiitpi.engine.session.refusal` decides whether a command may run now (one owner per
station); :class:`CommandHandler` carries it out on the engine's thread and keeps the answers to
the latest commands, which the engine publishes with its status, so a sender learns whether its
command ran and why not.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hiitpi.core.names import validate_player
from hiitpi.engine.session import refusal
from hiitpi.errors import ExerciseError, PlanError
from hiitpi.live.base import AdjustTarget, Command, CommandKind
from hiitpi.referee.catalog import is_path

if TYPE_CHECKING:
    from hiitpi.engine.live import LiveEngine

ANSWERS_KEPT = 20  # the engine's answers to the latest commands, published with the status


class CommandHandler:
    """Applies commands to one :class:`~hiitpi.engine.live.LiveEngine`, on its thread."""

    def __init__(self, engine: LiveEngine) -> None:
        self.e = engine
        self._answers: dict[str, list[str | None]] = {}

    def _set_player(self, command: Command) -> None:
        name = validate_player(command.player or "")
        if name != self.e.status.player or command.owner != self.e.status.owner:
            self.e.end_session()
            # a new player starts on a clean screen: nothing of the previous player's sets
            self.e.state, self.e.plan_run, self.e.clock = None, None, None
            self.e.status = replace(self.e.status, correction=0, message=None)
        self.e.status = replace(self.e.status, player=name, owner=command.owner)

    def apply(self, command: Command) -> None:
        error = refusal(self.e.status, command)
        named = self.e.status.player if error is not None else None
        if error is None:
            try:
                self._apply(command)
            except (ExerciseError, PlanError) as exc:
                error = str(exc)
                self.e.status = replace(self.e.status, error=error)
            except ValueError as exc:  # e.g. a fix below 0: the sender is told, not the page
                error = str(exc)
        if command.id is not None:
            self._answers[command.id] = [error, named]
            while len(self._answers) > ANSWERS_KEPT:
                self._answers.pop(next(iter(self._answers)))
            self.e.status = replace(self.e.status, answers=dict(self._answers))

    def _apply(self, command: Command) -> None:
        kind = command.kind
        if kind is CommandKind.START:
            if command.exercise is not None and is_path(command.exercise):
                # a command never makes the engine read a file (user files load at start-up)
                raise ExerciseError(f"start {command.exercise!r}: commands name an exercise id")
            if self.e.status.busy:
                self.e.end_session()
            if command.player:
                self.e.status = replace(self.e.status, player=validate_player(command.player))
            elif command.owner is not None and command.owner != self.e.status.owner:
                self.e.status = replace(self.e.status, player="")  # not the last player: a guest
            self.e.status = replace(self.e.status, owner=command.owner)
            if command.plan is not None:
                self.e.start_plan(command.plan)
            elif command.exercise is not None:
                self.e.start_exercise(command.exercise)
        elif kind is CommandKind.STOP:
            self.e.end_session()
        elif kind is CommandKind.SET_PLAYER:
            self._set_player(command)
        elif kind is CommandKind.PAUSE and self.e.clock is not None and self.e.status.busy:
            self.e.clock.pause()
        elif kind is CommandKind.RESUME and self.e.clock is not None and self.e.status.busy:
            self.e.clock.resume()
        elif kind is CommandKind.SKIP and self.e.plan_run is not None:
            self.e.plan_run.skip()
            self.e.tick_plan()
        elif kind is CommandKind.ADJUST:
            self._adjust(command)

    def _adjust(self, command: Command) -> None:
        last = command.target_set is AdjustTarget.LAST or self.e.referee is None
        shown = self.e.referee is None or not last  # the status shows the set being fixed
        total, reps = self.e.status.correction + command.delta, getattr(self.e.state, "reps", 0)
        if shown and reps + total < 0:
            raise ValueError("the corrected count cannot go below 0")
        if self.e.recorder is not None and not self.e.recorder.correct(command.delta, last=last):
            raise ValueError("no set to correct")
        if shown:
            self.e.status = replace(self.e.status, correction=total)
