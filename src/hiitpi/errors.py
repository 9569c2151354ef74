"""Project exception types. Each carries a message a user can act on (no traceback needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def validation_issues(err: ValidationError) -> list[tuple[str, str]]:
    """``(dotted.key, message)`` for each problem pydantic found; extra keys read "unknown key"."""
    issues = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(root)"
        issues.append((key, "unknown key" if e["type"] == "extra_forbidden" else e["msg"]))
    return issues


class HiitPiError(Exception):
    """Base class of every error the CLI reports as one line and a non-zero exit code."""

    exit_code = 1


class ConfigError(HiitPiError):
    """A configuration value or command-line argument is invalid; the message names the key."""

    exit_code = 2


class SourceError(HiitPiError):
    """A video source cannot be opened or read (missing file, not a video, no camera, timeout)."""

    exit_code = 3


class ModelError(HiitPiError):
    """A pose model or backend cannot be loaded or run."""

    exit_code = 4


class StoreError(HiitPiError):
    """The live store (Redis) or the history database is unavailable or failed."""

    exit_code = 5


class ExerciseError(HiitPiError):
    """An unknown exercise id or an invalid exercise definition file."""

    exit_code = 2


class PlanError(HiitPiError):
    """An unknown plan id or an invalid plan file; the message names the file and the key."""

    exit_code = 2
