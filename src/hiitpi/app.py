"""Composition root: build the live app from the config, start in order, stop in reverse.

live store (Redis, embedded unless HIITPI_REDIS_URL) -> history (SQLAlchemy; SQLite file unless
HIITPI_DATABASE_URL) -> video source -> pose estimator -> live engine (referee inside; the one
writer; records every rep as it happens) -> web server (cheroot, HTTP or HTTPS: request workers
plus a separate budget of viewer threads, so MJPEG streams never block other requests).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType
from typing import cast

from flask import Flask

from hiitpi.config import Settings
from hiitpi.engine.journal import Journal
from hiitpi.engine.live import LiveEngine
from hiitpi.engine.recorder import SessionRecorder
from hiitpi.errors import ConfigError
from hiitpi.live import DEFAULT_STATION, RedisLiveStore, open_live_store
from hiitpi.pose import PoseEstimator
from hiitpi.pose.choice import live_estimator
from hiitpi.pose.lores import LoresEstimator
from hiitpi.pose.registry import check_backend
from hiitpi.referee import available_exercises, load_exercise
from hiitpi.sources import VideoSource, open_source
from hiitpi.store import HistoryStore, open_history
from hiitpi.web import create_app
from hiitpi.web.dashboard import mount_dashboard
from hiitpi.web.server import WebServer
from hiitpi.web.sessions import OwnerStampedStore
from hiitpi.web.stream import FrameHub

log = logging.getLogger(__name__)


def lan_ip() -> str:
    """This machine's LAN address, without sending a packet (a UDP connect only picks a route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            ip = str(s.getsockname()[0])
            if not ip.startswith("0."):
                return ip
        except OSError:
            pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def public_url(host: str, port: int, *, https: bool = False) -> str:
    """The URL to open on a phone for a server bound to ``host``."""
    shown = lan_ip() if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{'https' if https else 'http'}://{shown}:{port}/"


class App:
    """The running station: every component, built and started in order by ``start``."""

    def __init__(
        self, settings: Settings, *, exercise: str | None = None, station: str = DEFAULT_STATION
    ) -> None:
        self.settings = settings
        self.exercise = exercise
        self.station = station
        self.store: RedisLiveStore | None = None
        self.history: HistoryStore | None = None
        self.recorder: SessionRecorder | None = None
        self.source: VideoSource | None = None
        self.estimator: PoseEstimator | None = None
        self.engine: LiveEngine | None = None
        self.web: Flask | None = None
        self.server: WebServer | None = None

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else 0

    @property
    def url(self) -> str:
        return public_url(self.settings.web.host, self.port, https=self.settings.web.https)

    def start(self) -> None:
        """Start everything; on a failure, stop what was started and re-raise."""
        # a bad file among the user's exercises, or an unknown id, fails before anything opens
        available_exercises(self.settings.user_exercises_dir)
        if self.exercise is not None:
            load_exercise(self.exercise, self.settings.user_exercises_dir)
        check_backend(self.settings.pose.backend)  # a typo, before Redis and the database
        check_port_free(self.settings.web.host, self.settings.web.port)  # before any set resumes
        try:
            self.store = open_live_store(self.settings, self.station)
            self.history = open_history(self.settings)
            journal = Journal.for_station(self.settings.data_dir, self.station)  # replayed now
            self.recorder = SessionRecorder(self.history, station=self.station, journal=journal)
            # a camera or stream that is down now is retried (the page says so), a file is not
            self.source = open_source(self.settings.source, paced=True, live=True)
            self.estimator, reason = self._estimator(self.source)
            self.engine = LiveEngine(
                self.source,
                self.estimator,
                self.store,
                self.settings,
                exercise=self.exercise,
                recorder=self.recorder,
                backend_reason=reason,
            )
            hardware_view = getattr(self.source, "hardware_view", None)  # Pi 4: MJPEG encoder
            if hardware_view is not None:
                self.engine.view = hardware_view()
            # this process's viewers get the engine's JPEGs in memory, not through Redis
            frames = FrameHub(self.store, local=True)
            self.engine.live_view.local = frames
            self.engine.start()
            # / is the dashboard's
            self.web = create_app(self.store, self.settings, index=False, frames=frames)
            # the dashboard's commands carry the sending browser's owner token (one owner)
            mount_dashboard(self.web, OwnerStampedStore(self.store), self.history, self.settings)
            self._start_server(self.web)
        except BaseException:
            self.stop()
            raise

    def _estimator(self, source: VideoSource) -> tuple[PoseEstimator, str]:
        """The configured backend, or (none configured) the one auto chose for this machine;
        a first start probes here, on a camera frame, before the engine starts."""
        choice = live_estimator(self.settings.pose, self.settings.data_dir, source.fps)
        if choice.probe is not None and getattr(source, "connected", True):
            frame = source.read()  # (a camera still down: the probe runs on its first frame)
            if frame is not None:
                choice.probe.probe(frame)
        estimator = choice.estimator
        use_lores = getattr(source, "use_lores", None)  # a Pi camera: a stream sized for it
        size = getattr(estimator, "input_size", None)
        if use_lores is not None and size is not None:
            use_lores(size)
            estimator = cast(PoseEstimator, LoresEstimator(estimator))  # name: a property
        return estimator, choice.reason

    def _start_server(self, web: Flask) -> None:
        """cheroot on a thread (hiitpi.web.server says why), HTTPS with the station's own
        certificate when ``web.https`` is set."""
        cfg = self.settings.web
        tls = None
        if cfg.https:
            from hiitpi.web.tls import ensure_certificate

            tls = ensure_certificate(self.settings.data_dir / "tls", lan_ip())
        self.server = WebServer(web, cfg, tls)
        self.server.start()
        log.info(
            "web server on %s:%d (%s, %d request threads + %d viewers)",
            cfg.host,
            self.port,
            "https" if tls else "http",
            cfg.threads,
            cfg.max_viewers,
        )

    def _stop_server(self) -> None:
        """Open MJPEG streams end first (each within a wait), then the server joins its
        threads: no socket is closed under a worker's feet, and the frame reader stops before
        the store closes."""
        if self.web is not None:
            self.web.extensions["hiitpi_stopping"].set()  # open MJPEG streams end
        if self.server is not None:
            self.server.stop()
        if self.web is not None:
            self.web.extensions["hiitpi_frames"].close()
        self.server = None

    def stop(self) -> None:
        """Stop in reverse order; safe to call more than once and after a failed start."""
        self._stop_server()
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        if self.estimator is not None:
            self.estimator.close()
            self.estimator = None
        if self.source is not None:
            self.source.close()
            self.source = None
        if self.recorder is not None:
            self.recorder.close()  # what the database did not take stays in the journal
            self.recorder = None
        if self.history is not None:
            self.history.close()  # a set still open stays active: the next start resumes it
            self.history = None
        if self.store is not None:
            self.store.close()
            self.store = None


def check_port_free(host: str, port: int) -> None:
    """ConfigError naming ``web.port`` when it cannot be bound (busy, or not allowed).

    Checked before the engine starts, so a busy port does not first load the model and resume
    a set. The real server binds it again moments later (the same SO_REUSEADDR as the web server).
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:  # the name, not the port: no address to listen on
        raise ConfigError(
            f"web.host: {host!r} is not an address of this machine: {exc.strerror or exc} "
            "(0.0.0.0 listens on all of them)"
        ) from None
    try:
        family, kind, proto, _, addr = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(addr)
    except OSError as exc:
        raise ConfigError(
            f"web.port: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


def serve(settings: Settings, exercise: str | None = None) -> int:
    """Run the live app until SIGINT/SIGTERM; prints the URL to open on a phone."""
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    app = App(settings, exercise=exercise, station=settings.station)
    try:
        app.start()
        print(f"HIIT PI is running: open {app.url} on a phone or browser (Ctrl+C to stop)")
        while not done.wait(0.5):
            pass
    finally:
        app.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
