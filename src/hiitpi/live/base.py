"""The live-store protocols: how the engine (one writer) and the web (many readers) talk.

The engine publishes a state snapshot every frame, appends rep events and metrics to capped
streams, and - only while somebody watches - the latest JPEG. The web reads snapshots and
streams without consuming them, waits for *new* frames, counts itself as a viewer, and sends
commands (start an exercise or a plan, pause, resume, skip, stop, adjust a count, set player)
that only the engine consumes.

The seam is cut into small protocols (state, events, metrics, frames, commands, viewers), so
each side names only what it uses: :class:`EngineSide` is what the engine's live link
(``hiitpi.engine.link``) writes and reads, :class:`WebSide` what the web app reads and sends.
:class:`LiveStore` is all of them, as :class:`~hiitpi.live.redis_store.RedisLiveStore` and
:class:`~hiitpi.live.memory.MemoryLiveStore` implement them. Names (players, stations, the
guest) are defined once, in :mod:`hiitpi.core.names`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from hiitpi.core.events import RepEvent, WorkoutState
from hiitpi.core.names import DEFAULT_STATION as DEFAULT_STATION  # re-exported for callers
from hiitpi.core.names import PLAYER_MAX_LEN as PLAYER_MAX_LEN
from hiitpi.core.names import validate_player as validate_player
from hiitpi.errors import StoreError


class WriteRefused(StoreError):
    """Redis answers but refuses writes: it cannot save to disk (MISCONF, e.g. a full disk),
    is out of memory (OOM) or is a read-only replica. Not the same as Redis being down, and the
    status must say which: the engine keeps counting either way."""


def session_busy(active: bool, plan: str | None, interval: str | None) -> bool:
    """A set is refereed, or a plan is between its sets (:attr:`EngineStatus.busy`)."""
    return active or (plan is not None and interval not in (None, "done"))


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """What the engine reports next to the workout state (for the status page and HUD)."""

    source: str = ""
    backend: str = ""
    backend_reason: str = ""  # why this backend: configured, or what the auto probe measured
    fps: float = 0.0
    inference_ms: float = 0.0
    pose_score: float = 0.0
    player: str = ""
    active: bool = False  # an exercise is being refereed right now
    running: bool = False  # the engine thread is alive
    error: str | None = None  # e.g. a source that stopped delivering frames
    source_ended: bool = False  # the camera or file delivers no more frames
    frames: int = 0
    dropped: int = 0
    viewers: int = 0
    # delivered fps below 0.9 x the camera's for 10 s (hiitpi.engine.pace), and what to do
    falling_behind: bool = False
    warning: str | None = None
    # the per-frame budget, rolling medians in ms: wait (for a new frame), pose, referee,
    # publish (to the live store), draw, encode; capture -> count and capture -> JPEG latency
    stages_ms: dict[str, float] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    # the session: who owns it (a browser's token, never shown by the API) and the plan's clock
    owner: str | None = None
    session_id: int | None = None  # the plan session's id, else the running set's
    set_id: int | None = None  # the running (or last) set's id
    plan: str | None = None
    plan_name: str | None = None
    block: int | None = None  # 0-based
    blocks: int | None = None
    round: int | None = None  # 1-based
    rounds: int | None = None  # None for AMRAP
    interval: str | None = None  # countdown | work | rest | done; None without a plan
    remaining_s: float | None = None
    elapsed_s: float | None = None
    target: int | None = None
    next: str | None = None  # the next block's exercise id
    paused: bool = False
    correction: int = 0  # sum of the +1/-1 fixes of the running (or last) set
    drift: str | None = None  # steady | slowing | faster, vs the session's first reps
    drift_pct: float | None = None
    message: str | None = None  # for a person: "the video ended", "camera disconnected"
    # the engine's answers to the latest commands: stream id -> [error or None, player named]
    answers: dict[str, list[str | None]] = field(default_factory=dict)
    # each part the engine depends on, as the engine sees it: "camera", "database" (history and
    # its journal backlog) and "live_store" (the engine's own link to Redis); see ``component``
    health: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        """A session runs: a set is refereed, or a plan is between its sets."""
        return session_busy(self.active, self.plan, self.interval)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EngineStatus:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def component(
    ok: bool | None, state: str, error: str | None = None, since: float | None = None, **extra: Any
) -> dict[str, Any]:
    """One entry of ``EngineStatus.health``: ``ok`` None means unknown; ``state`` a word such as
    "ok", "down", "waiting", "reconnecting"; ``error`` the last error; ``since`` the wall-clock
    time (time.time()) the state began; ``extra`` e.g. ``backlog`` (entries not yet written)."""
    return {"ok": ok, "state": state, "error": error, "since": since, **extra}


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """The last published state: the workout (None before the first exercise) and status."""

    state: WorkoutState | None
    status: EngineStatus
    updated: float  # wall-clock time (time.time()) of the publication

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": None if self.state is None else self.state.to_dict(),
            "status": self.status.to_dict(),
            "updated": self.updated,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiveSnapshot:
        state = d.get("state")
        return cls(
            state=None if state is None else WorkoutState.from_dict(state),
            status=EngineStatus.from_dict(d.get("status", {})),
            updated=float(d.get("updated", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class Metric:
    """One frame's measurements for the live chart."""

    t: float
    inference_ms: float
    pose_score: float


@dataclass(slots=True)
class Round:
    """One pass of the engine's live link: what it writes and reads, in one round trip where
    the store can (Redis: one pipeline), in this order: metrics, the state, the frame, then
    the commands after ``commands_after`` (when not None) and the viewer count (when asked).

    Rep events and the end-of-set save are not part of it: they are rare, and each needs its
    own answer (an event write whose answer was lost is checked before it is sent again)."""

    metrics: tuple[Metric, ...] = ()
    snapshot: tuple[WorkoutState | None, EngineStatus] | None = None
    frame: bytes | None = None
    commands_after: str | None = None
    count_viewers: bool = False


@dataclass(slots=True)
class RoundResult:
    """What a :class:`Round` read: the command position and the commands after the old one
    (when commands were read), and the viewer count (when asked)."""

    position: str | None = None
    commands: list[Command] = field(default_factory=list)
    viewers: int | None = None


class CommandKind(StrEnum):
    START = "start"
    STOP = "stop"
    SET_PLAYER = "set_player"
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    ADJUST = "adjust"


class AdjustTarget(StrEnum):
    CURRENT = "current"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class Command:
    """A request from the web to the engine.

    START takes ``exercise`` or ``plan`` (and optionally ``player``), SET_PLAYER ``player``,
    ADJUST ``delta`` (+1 or -1) and ``target_set``. ``owner`` is the sending browser's token
    (None: a trusted local caller, e.g. a script on the station); ``confirm`` ends a session
    another owner runs (or the owner's own running set, when starting another).
    """

    kind: CommandKind
    exercise: str | None = None
    player: str | None = None
    plan: str | None = None
    owner: str | None = field(default=None, repr=False)  # a secret: kept out of logs
    confirm: bool = False
    delta: int = 0
    target_set: AdjustTarget = AdjustTarget.CURRENT
    id: str | None = None  # the command stream's id, set when read (not sent)

    def __post_init__(self) -> None:
        if self.kind is CommandKind.START and not (self.exercise or self.plan):
            raise ValueError("a start command needs an exercise id or a plan id")
        if self.kind is CommandKind.START and self.exercise and self.plan:
            raise ValueError("a start command takes an exercise id or a plan id, not both")
        if self.kind is CommandKind.SET_PLAYER or (self.kind is CommandKind.START and self.player):
            # the engine and history see the normalised name (NFC, stripped), never a variant
            object.__setattr__(self, "player", validate_player(self.player or ""))
        if self.kind is CommandKind.ADJUST and self.delta not in (1, -1):
            raise ValueError(f"delta must be 1 or -1, got {self.delta!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d["target_set"] = self.target_set.value
        del d["id"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Command:
        return cls(
            kind=CommandKind(d["kind"]),
            exercise=d.get("exercise"),
            player=d.get("player"),
            plan=d.get("plan"),
            owner=d.get("owner"),
            confirm=bool(d.get("confirm", False)),
            delta=int(d.get("delta", 0)),
            target_set=AdjustTarget(d.get("target_set", AdjustTarget.CURRENT.value)),
        )


@runtime_checkable
class StateStore(Protocol):
    """The latest snapshot: overwritten by the engine every frame, read by anyone."""

    def publish_state(self, state: WorkoutState | None, status: EngineStatus) -> None: ...
    def get_state(self) -> LiveSnapshot | None: ...


@runtime_checkable
class EventStore(Protocol):
    """Rep events, appended in order and read without being consumed (stream ids ascend)."""

    def append_event(self, event: RepEvent) -> str: ...
    def events(self, since_id: str = "0-0", count: int = 100) -> list[tuple[str, RepEvent]]: ...
    def recent_events(self, count: int = 10) -> list[tuple[str, RepEvent]]: ...


@runtime_checkable
class MetricStore(Protocol):
    """Per-frame measurements for the live chart (capped: old ones fall off)."""

    def append_metric(self, t: float, inference_ms: float, pose_score: float) -> str: ...
    def metrics(self, since_id: str = "0-0", count: int = 500) -> list[tuple[str, Metric]]: ...


@runtime_checkable
class FrameStore(Protocol):
    """The latest JPEGs; each viewer waits for one newer than the one it last saw."""

    def put_frame(self, jpeg: bytes) -> str: ...
    def wait_frame(self, previous_id: str | None, timeout: float) -> tuple[str, bytes] | None: ...


@runtime_checkable
class CommandStore(Protocol):
    """Web -> engine requests: many senders, one reader that keeps its own position."""

    def send_command(self, command: Command) -> str: ...
    def read_commands(self, after_id: str) -> tuple[str, list[Command]]: ...
    def last_command_id(self) -> str: ...


@runtime_checkable
class ViewerStore(Protocol):
    """Each MJPEG client refreshes its id; the engine renders only while the count is > 0."""

    def touch_viewer(self, viewer_id: str, ttl: float = 5.0) -> None: ...
    def drop_viewer(self, viewer_id: str) -> None: ...
    def viewer_count(self) -> int: ...


@runtime_checkable
class RoundStore(Protocol):
    """The engine link's per-frame writes and reads in one round trip (see :class:`Round`)."""

    def write_round(self, r: Round) -> RoundResult: ...


@runtime_checkable
class StoreLifecycle(Protocol):
    station: str

    def persist(self) -> bool: ...  # save to disk at the end of a set (embedded server)
    def ping(self) -> bool: ...
    def close(self) -> None: ...


@runtime_checkable
class EngineSide(StateStore, EventStore, MetricStore, FrameStore, RoundStore, Protocol):
    """What the engine's live link uses: it writes state, events, metrics and frames, reads
    commands from its own position, counts viewers, and saves at the end of a set. Each frame's
    metric, state, JPEG, command poll and viewer count go together as one :class:`Round`."""

    def read_commands(self, after_id: str) -> tuple[str, list[Command]]: ...
    def last_command_id(self) -> str: ...
    def viewer_count(self) -> int: ...
    def persist(self) -> bool: ...


@runtime_checkable
class WebSide(StateStore, EventStore, MetricStore, FrameStore, ViewerStore, Protocol):
    """What the web app uses: it reads everything, sends commands, and registers viewers."""

    station: str

    def send_command(self, command: Command) -> str: ...
    def ping(self) -> bool: ...


@runtime_checkable
class LiveStore(
    StateStore,
    EventStore,
    MetricStore,
    FrameStore,
    CommandStore,
    ViewerStore,
    RoundStore,
    StoreLifecycle,
    Protocol,
):
    """Live data of one station: every part. Implementations must be safe to share between
    threads, and raise :class:`~hiitpi.errors.StoreError` (never a Redis or JSON error) when
    the store is unreachable or holds something malformed."""
