"""What every page and callback needs: the stores, the settings and the exercise list.

The session clock is the engine's (``elapsed_s`` / ``remaining_s`` in ``GET /api/status``):
the dashboard keeps no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hiitpi.live.base import LiveStore
from hiitpi.referee import ExerciseDefinition, list_exercises

if TYPE_CHECKING:
    from hiitpi.config import Settings
    from hiitpi.store import HistoryStore


@dataclass
class Dashboard:
    """Shared, read-mostly state of one mounted dashboard (safe across web threads)."""

    store: LiveStore
    history: HistoryStore | None
    settings: Settings
    exercises: list[ExerciseDefinition] = field(default_factory=list_exercises)

    @property
    def labels(self) -> dict[str, str]:
        return {ex.id: ex.label for ex in self.exercises}

    def known(self, workout: str | None) -> bool:
        return workout is not None and any(ex.id == workout for ex in self.exercises)

    def player_names(self) -> list[str]:
        if self.history is None:
            return []
        return [p.name for p in self.history.list_players()]
