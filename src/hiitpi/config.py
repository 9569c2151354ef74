"""One typed configuration tree, read from a TOML file and ``HIITPI_*`` environment variables.

Precedence (highest first): explicit overrides (command-line flags), environment, file, defaults.
Environment keys use ``__`` between levels: ``HIITPI_POSE__BACKEND=mediapipe``. Two short
aliases exist for the services: ``HIITPI_REDIS_URL`` and ``HIITPI_DATABASE_URL``.
Every error names the offending key, e.g. ``pose.model_complexity: Input should be 0, 1 or 2``;
a misspelt ``HIITPI_*`` variable is an error. ``HIITPI_TEST_*`` is reserved for the test suite.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hiitpi.core.names import DEFAULT_STATION, STATION_PATTERN
from hiitpi.errors import ConfigError, validation_issues

ENV_PREFIX = "HIITPI_"
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "hiitpi"
_ALIASES = {"REDIS_URL": ("redis_url",), "DATABASE_URL": ("database_url",), "CONFIG": ()}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Section):
    uri: str = Field(
        "auto", description="camera index, file path, rtsp/http URL, 'picamera' or 'auto'"
    )
    width: int | None = Field(None, gt=0)
    height: int | None = Field(None, gt=0)
    fps: float | None = Field(None, gt=0, le=240)
    open_timeout_s: float = Field(10.0, gt=0, le=120)
    loop: bool = Field(False, description="restart a file source at its end (demo/kiosk use)")
    # a live camera or stream that stops delivering is reopened (hiitpi.sources.reconnect)
    reconnect_backoff_s: float = Field(
        5.0, gt=0, le=60, description="longest wait between two attempts to reopen a camera"
    )
    reconnect_pause_s: float = Field(
        10.0, gt=0, le=3600, description="a running set pauses once the camera is gone this long"
    )
    reconnect_end_s: float = Field(
        120.0, gt=0, le=86400, description="and is closed once the camera is gone this long"
    )

    @model_validator(mode="after")
    def _pause_before_end(self) -> SourceConfig:
        if self.reconnect_end_s < self.reconnect_pause_s:
            raise ValueError("reconnect_end_s must be at least reconnect_pause_s")
        return self


class PoseConfig(_Section):
    backend: str = "blazepose"
    model_complexity: int = Field(1, ge=0, le=2, description="BlazePose 0 lite, 1 full, 2 heavy")
    model_path: Path | None = Field(None, description="overrides the backend's model file")
    models_dir: Path = Field(
        DEFAULT_DATA_DIR / "models",
        description="every backend's model files (`hiitpi models`); default <data_dir>/models",
    )
    min_detection_confidence: float = Field(0.5, ge=0, le=1)
    min_tracking_confidence: float = Field(0.5, ge=0, le=1)
    delegate: Literal["edgetpu"] | None = None
    num_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="LiteRT CPU threads; 0 = one per core, up to 4 (MediaPipe picks its own)",
    )


class RefereeConfig(_Section):
    confidence_floor: float = Field(0.5, ge=0, le=1)
    smoothing: Literal["one_euro", "ema", "none"] = "one_euro"
    angles: Literal["world", "image"] = Field(
        "image",
        description="joint angles from the 3D world landmarks (where the backend has them) "
        "or from the 2D image keypoints",
    )
    pace_window_s: float = Field(30.0, gt=0, le=600)


class WebConfig(_Section):
    host: str = "0.0.0.0"
    port: int = Field(8050, ge=1, le=65535)
    threads: int = Field(32, ge=4, le=512, description="request workers, besides the viewers")
    max_viewers: int = Field(
        64, ge=1, le=512, description="MJPEG viewers at once; more get 503 'too many viewers'"
    )
    timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="a socket that neither sends nor drains for this long is dropped",
    )
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=16 * 1024 * 1024, description="larger request bodies get 413"
    )
    https: bool = Field(
        False, description="serve HTTPS with a self-signed certificate made in data_dir/tls"
    )
    jpeg_quality: int = Field(80, ge=10, le=100)
    pin_hash: str | None = Field(
        None,
        pattern=r"^scrypt:\d+:\d+:\d+\$[^$\s]+\$[0-9a-f]+$",
        description="the station PIN's hash (`hiitpi pin hash`); unset = the PIN file that "
        "`hiitpi pin set` or the first-run page writes in data_dir, if any",
    )
    pin_to_view: bool = Field(
        False, description="with a PIN set, viewing needs it too (not only changes)"
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="names the station answers to besides its own (e.g. a reverse proxy's); "
        "'.home.lan' = that domain and its subdomains, '*' = any (no DNS-rebinding check)",
    )
    max_sessions: int = Field(
        100, ge=1, le=100_000, description="browser sessions kept (the least recently used go)"
    )


class Settings(_Section):
    source: SourceConfig = SourceConfig()
    pose: PoseConfig = PoseConfig()
    referee: RefereeConfig = RefereeConfig()
    web: WebConfig = WebConfig()
    station: str = Field(
        DEFAULT_STATION,
        pattern=STATION_PATTERN,
        description="this camera's name: stations sharing one Redis/database need distinct ones",
    )
    redis_url: str | None = Field(None, description="external Redis; unset = embedded server")
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset = SQLite file")
    data_dir: Path = Field(DEFAULT_DATA_DIR)
    cache_dir: Path = Field(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hiitpi",
        description="generated pose tracks (keyed by video content + pose settings)",
    )
    exercises_dir: Path | None = Field(
        None, description="the user's own exercise definitions (*.toml); unset = data_dir/exercises"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        """A URL redis-py can open, checked here so that a typo is a config error (exit 2)
        and not "Redis is unreachable" once the app starts."""
        if url and url.partition("://")[0] not in ("redis", "rediss", "unix"):  # "": unset
            raise ValueError(
                f"{url!r} is not a Redis URL: redis://host:6379/0, rediss://... (TLS) or "
                "unix:///path/to/redis.sock"
            )
        return url

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        """A URL SQLAlchemy can parse (its driver is checked when the database opens)."""
        if url:  # "" is unset, as in the README's example file
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(url)
            except ArgumentError:
                raise ValueError(
                    f"{url!r} is not a database URL: sqlite:////path/history.sqlite3 or "
                    "postgresql+psycopg://user@host/dbname"
                ) from None
        return url

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, path: Path) -> Path:
        if path.expanduser().exists() and not path.expanduser().is_dir():
            raise ValueError(f"{path} is a file, not a folder")
        return path

    @model_validator(mode="before")
    @classmethod
    def _models_under_data_dir(cls, data: Any) -> Any:
        """``pose.models_dir`` left unset follows ``data_dir``: ``<data_dir>/models``."""
        if isinstance(data, Mapping) and "data_dir" in data:
            pose = data.get("pose")
            if pose is None or (isinstance(pose, Mapping) and "models_dir" not in pose):
                pose = dict(pose or {})
                pose["models_dir"] = Path(data["data_dir"]) / "models"
                data = {**data, "pose": pose}
        return data

    @property
    def user_exercises_dir(self) -> Path:
        """Where the user's exercise files are: ``exercises_dir``, else ``data_dir/exercises``."""
        return (self.exercises_dir or self.data_dir / "exercises").expanduser()


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _known_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            paths |= _known_paths(ann, (*prefix, name))
        else:
            paths.add((*prefix, name))
    return paths


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    known = _known_paths(Settings)
    tree: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        rest = key[len(ENV_PREFIX) :]
        if rest.startswith("TEST_"):  # reserved for the test suite's own knobs
            continue
        if rest in _ALIASES:
            if _ALIASES[rest]:
                _set_path(tree, _ALIASES[rest], value)
            continue
        path = tuple(part.lower() for part in rest.split("__"))
        if path not in known:
            names = sorted(ENV_PREFIX + "__".join(p).upper() for p in known)
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
            if close:  # a typo: the one it was meant to be, not all ~60
                raise ConfigError(f"{key}: unknown setting; did you mean {close[0]}?")
            raise ConfigError(f"{key}: unknown setting; valid: {', '.join(names)}")
        _set_path(tree, path, value)
    return tree


def _format(err: ValidationError, origin: str) -> str:
    return "; ".join(f"{key}: {msg} (from {origin})" for key, msg in validation_issues(err))


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read file + environment + overrides into a validated :class:`Settings`.

    ``path`` defaults to ``$HIITPI_CONFIG`` when set. Raises :class:`ConfigError`.
    """
    env = os.environ if env is None else env
    path = path or env.get(ENV_PREFIX + "CONFIG") or None
    tree: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        p = Path(path)
        try:
            tree = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {p} cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
        origin = str(p)
    env_tree = _from_env(env)
    if env_tree:
        origin += " + environment"
    tree = _deep_merge(tree, env_tree)
    if overrides:
        tree = _deep_merge(tree, overrides)
        origin += " + command line"
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_format(exc, origin)) from None
