"""Every exercise a station can referee: the built-in ones and the user's own files.

A user's exercise is a TOML definition in the same format as the built-in ones (see
docs/EXERCISES.md), validated the same way; errors name the file and the key. They come from a
folder (config ``exercises_dir``, default ``<data_dir>/exercises``) or from a path given where
an exercise id is expected (``--exercise path/to/my_move.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hiitpi.errors import ExerciseError
from hiitpi.referee.definition import ExerciseDefinition, list_exercises, load_definition_file

Origin = Literal["builtin", "user"]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    definition: ExerciseDefinition
    origin: Origin
    path: Path | None = None  # the user's file

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def label(self) -> str:
        return self.definition.label


def is_path(ref: str | Path) -> bool:
    """Whether an ``--exercise`` value names a file rather than an id."""
    text = str(ref)
    return text.endswith(".toml") or "/" in text or "\\" in text


def _builtin_ids() -> set[str]:
    return {d.id for d in list_exercises()}


def _user_file(path: Path) -> ExerciseDefinition:
    definition = load_definition_file(path)
    if definition.id in _builtin_ids():
        raise ExerciseError(
            f"{path}: id: {definition.id!r} is a built-in exercise; give yours another id "
            "(and file name)"
        )
    return definition


def user_exercises(folder: Path | None) -> list[CatalogEntry]:
    """The user's definitions in ``folder`` (``*.toml``, sorted); none when it does not exist."""
    if folder is None or not folder.is_dir():
        return []
    return [
        CatalogEntry(_user_file(path), "user", path)
        for path in sorted(folder.glob("*.toml"))
        if path.is_file()
    ]


def available_exercises(user_dir: Path | None = None) -> list[CatalogEntry]:
    """Built-in exercises, then the user's from ``user_dir``; the list the UI offers."""
    builtin = [CatalogEntry(d, "builtin") for d in list_exercises()]
    return builtin + user_exercises(user_dir)


def available_definitions(user_dir: Path | None = None) -> list[ExerciseDefinition]:
    """:func:`available_exercises` as plain definitions."""
    return [entry.definition for entry in available_exercises(user_dir)]


def load_exercise(ref: str | Path, user_dir: Path | None = None) -> ExerciseDefinition:
    """The definition for an id (built-in, or a user file in ``user_dir``) or a file path.

    An unknown id lists the valid ones; a bad file names the file and the key.
    """
    if is_path(ref):
        path = Path(ref).expanduser()
        if not path.is_file():
            raise ExerciseError(f"{path}: exercise file not found")
        return _user_file(path)
    entries = available_exercises(user_dir)
    for entry in entries:
        if entry.id == ref:
            return entry.definition
    valid = ", ".join(e.id if e.origin == "builtin" else f"{e.id} (user)" for e in entries)
    raise ExerciseError(f"unknown exercise {str(ref)!r}; valid: {valid}")
