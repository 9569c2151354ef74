"""TOML data files validated by a pydantic model: exercise definitions and workout plans.

One reader for both, so they fail the same way: every error names the file (``origin``) and the
key, and a file's ``id`` must match its name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hiitpi.errors import HiitPiError, validation_issues

M = TypeVar("M", bound=BaseModel)


def parse_model(text: str, origin: str, model: type[M], error: type[HiitPiError]) -> M:
    """Parse and validate one file's ``text``; ``error`` names ``origin`` and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin}: not valid TOML: {exc}") from None
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        raise error("; ".join(f"{origin}: {k}: {m}" for k, m in validation_issues(exc))) from None
    stem = Path(origin).stem
    ident = getattr(obj, "id", stem)
    if ident != stem:
        raise error(f"{origin}: id: {ident!r} must match the file name {stem!r}")
    return obj


def read_file(path: str | Path, parse: Callable[[str, str], M], error: type[HiitPiError]) -> M:
    """``parse(text, origin)`` of the file at ``path``; an unreadable file is ``error``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{p}: cannot be read: {exc}") from None
    return parse(text, str(p))


def packaged(package: str, folder: str, parse: Callable[[str, str], M]) -> list[M]:
    """Every ``*.toml`` shipped in ``package``/``folder``, by file name."""
    root = resources.files(package) / folder
    return [
        parse(entry.read_text(encoding="utf-8"), f"{folder}/{entry.name}")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
