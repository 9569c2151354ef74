"""The referee: declarative exercise definitions and one generic counter that runs them all."""

from hiitpi.referee.catalog import (
    CatalogEntry,
    available_definitions,
    available_exercises,
    load_exercise,
)
from hiitpi.referee.definition import (
    ExerciseDefinition,
    list_exercises,
    load_definition_file,
)
from hiitpi.referee.pipeline import RefereePipeline
from hiitpi.referee.referee import Referee

__all__ = [
    "CatalogEntry",
    "ExerciseDefinition",
    "Referee",
    "RefereePipeline",
    "available_definitions",
    "available_exercises",
    "list_exercises",
    "load_definition_file",
    "load_exercise",
]
