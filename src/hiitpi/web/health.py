"""Health that tells the truth: each part the station needs, separately, with its last error.

``/healthz`` and ``/api/status`` show ``health``: ``redis`` (the web's own link: a ping and a
tiny write, so a Redis that answers but refuses writes - a full disk, ``maxmemory``, a
read-only replica - is named as such instead of looking like a silent engine), ``engine``
(running, fps, its error), and the engine's own view of ``camera``, ``database`` (with the
journal ``backlog``), ``live_store`` and ``referee`` (not ok while the pose model or the referee
fails on the frames). A value nobody can know right now is null: with no
snapshot to read, or a snapshot too old to trust, the parts the engine reports are unknown.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hiitpi.errors import StoreError
from hiitpi.live.base import LiveSnapshot, LiveStore, WriteRefused, component

PROBE_EVERY_S = 1.0  # pages poll /api/status 5 times a second: one probe serves them all
PROBE_TTL_S = 30
ENGINE_PARTS = ("camera", "database", "live_store", "referee")


class RedisProbe:
    """The web's own view of Redis: can it read, and can it write? Cached for a second."""

    def __init__(self, store: LiveStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._at = -1e9
        self._entry: dict[str, Any] = component(None, "unknown")
        self._last_error: str | None = None
        self._last_error_at: float | None = None

    def check(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= PROBE_EVERY_S:
                self._at = now
                self._entry = self._probe()
            return dict(self._entry)

    def failed(self, error: str) -> None:
        """A read elsewhere failed just now: report it at once (not a second later)."""
        with self._lock:
            self._at = time.monotonic()
            self._entry = self._entry_for(False, "down", error)

    def _probe(self) -> dict[str, Any]:
        probe_write = getattr(self.store, "probe_write", None)
        try:
            if probe_write is None:  # a store without Redis under it: its own ping
                ok = self.store.ping()
                return self._entry_for(ok, "ok" if ok else "down", None if ok else "no answer")
            probe_write(PROBE_TTL_S)
        except WriteRefused as exc:  # named by the store (hiitpi.live.redis_store)
            return self._entry_for(False, "refuses_writes", str(exc))
        except StoreError as exc:
            return self._entry_for(False, "down", str(exc))
        return self._entry_for(True, "ok", None)

    def _entry_for(self, ok: bool, state: str, error: str | None) -> dict[str, Any]:
        since = self._entry.get("since") if self._entry.get("state") == state else time.time()
        if error is not None:
            self._last_error, self._last_error_at = error, time.time()
        return component(
            ok,
            state,
            error,
            since,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
        )


def read_state(store: LiveStore, probe: RedisProbe) -> tuple[LiveSnapshot | None, str | None]:
    """The snapshot (None if there is none) and the read error (None if the read worked)."""
    try:
        return store.get_state(), None
    except StoreError as exc:
        probe.failed(str(exc))
        return None, str(exc)


def health(
    snap: LiveSnapshot | None, fresh: bool, redis: dict[str, Any], read_error: str | None
) -> dict[str, dict[str, Any]]:
    """Every part, separately. ``fresh``: the snapshot is recent enough to trust."""
    out: dict[str, dict[str, Any]] = {"redis": redis}
    if snap is None:
        state = "unknown" if read_error is not None else "none"
        error = "the live store cannot be read" if read_error is not None else None
        out["engine"] = component(None if read_error else False, state, error, fps=None)
        for part in ENGINE_PARTS:
            out[part] = component(None, "unknown")
        return out
    st = snap.status
    if fresh and st.running:
        engine = component(True, "running", st.error, fps=st.fps)
    else:
        age = time.time() - snap.updated
        why = "stopped" if not st.running else "not publishing"
        engine = component(
            False, why, st.error or f"no update for {age:.0f} s", snap.updated, fps=None
        )
    out["engine"] = engine
    for part in ENGINE_PARTS:
        entry = dict(st.health.get(part) or _derived(part, snap))
        if not fresh:  # what the engine last said: no longer known to be true
            entry["ok"] = None
            entry["stale"] = True
        out[part] = entry
    return out


def _derived(part: str, snap: LiveSnapshot) -> dict[str, Any]:
    """An engine that publishes no ``health`` entry for ``part``: what its status implies."""
    st = snap.status
    if part == "camera" and st.source:
        if st.source_ended:
            return component(False, "ended", st.error or f"{st.source} delivers no frames")
        return component(True, "ok")
    if part == "referee" and st.running:  # no frame has failed it (hiitpi.engine.failures)
        return component(True, "ok")
    return component(None, "unknown")
