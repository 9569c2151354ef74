"""The referee: declarative exercise definitions and one generic counter that runs them all."""

from hiitpi.referee.definition import (
    ExerciseDefinition,
    list_exercises,
    load_definition_file,
    load_exercise,
)
from hiitpi.referee.referee import Referee

__all__ = [
    "ExerciseDefinition",
    "Referee",
    "list_exercises",
    "load_definition_file",
    "load_exercise",
]
