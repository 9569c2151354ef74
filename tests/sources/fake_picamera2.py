"""TEST DOUBLE of picamera2's capture API. We have no Raspberry Pi camera here.

It imitates only what ``PiCameraSource`` calls, with picamera2's real names and behaviour:
``Picamera2.global_camera_info()`` (a static method listing attached cameras),
``Picamera2(camera_num)``, ``create_video_configuration(main=..., controls=...)``,
``configure``, ``start``, ``capture_array("main")``, ``stop`` and ``close``. For the
``RGB888`` format picamera2 delivers ``[B, G, R]`` bytes (Picamera2 manual, "Image formats"),
so this double does the same. It is injected as ``sys.modules["picamera2"]`` by the
``fake_picamera2`` fixture; nothing here says the real library or a real camera works.
"""

from __future__ import annotations

import types
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray


class FakePicamera2:
    """One fake camera. Class attributes steer the next instance (reset by the fixture)."""

    cameras: ClassVar[list[dict[str, Any]]] = []
    instances: ClassVar[list[FakePicamera2]] = []
    start_error: ClassVar[Exception | None] = None
    capture_error: ClassVar[Exception | None] = None
    frame_format: ClassVar[str | None] = None  # overrides the configured format when set

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        return [dict(c) for c in FakePicamera2.cameras]

    def __init__(self, camera_num: int = 0) -> None:
        if camera_num >= len(FakePicamera2.cameras):
            raise IndexError("list index out of range")  # what picamera2 does with no camera
        self.camera_num = camera_num
        self.config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.calls: list[str] = []
        self.captured = 0
        FakePicamera2.instances.append(self)

    def create_video_configuration(
        self, main: dict[str, Any] | None = None, controls: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.calls.append("create_video_configuration")
        main = {"format": "XBGR8888", "size": (1280, 720), **(main or {})}
        return {"use_case": "video", "main": main, "controls": dict(controls or {})}

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append("configure")
        self.config = config

    def start(self) -> None:
        self.calls.append("start")
        if FakePicamera2.start_error is not None:
            raise FakePicamera2.start_error
        if self.config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def capture_array(self, name: str = "main") -> NDArray[np.uint8]:
        if not self.started:
            raise RuntimeError("Camera must be started before capture_array")
        if FakePicamera2.capture_error is not None:
            raise FakePicamera2.capture_error
        assert self.config is not None
        width, height = self.config[name]["size"]
        fmt = FakePicamera2.frame_format or self.config[name]["format"]
        self.captured += 1
        return bgr_test_pattern(width, height, self.captured, fmt)

    def stop(self) -> None:
        self.calls.append("stop")
        self.started = False

    def close(self) -> None:
        self.calls.append("close")
        self.closed = True


def bgr_test_pattern(width: int, height: int, n: int, fmt: str = "RGB888") -> NDArray[np.uint8]:
    """Byte 0 (blue) = 200, byte 1 (green) = n % 256, byte 2 (red) = 50, as picamera2 lays out
    RGB888; XRGB8888 adds a fourth byte of 255; "GREY" returns a 2-D array (a bad format)."""
    if fmt == "GREY":
        return np.full((height, width), 7, np.uint8)
    image = np.empty((height, width, 4 if fmt == "XRGB8888" else 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 200, n % 256, 50
    if fmt == "XRGB8888":
        image[..., 3] = 255
    return image


def make_module() -> types.ModuleType:
    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    module.__doc__ = "TEST DOUBLE of picamera2 (tests/sources/fake_picamera2.py)"
    return module


def reset(cameras: int = 1) -> None:
    FakePicamera2.cameras = [
        {"Model": "imx708", "Num": i, "Id": f"/fake/cam{i}"} for i in range(cameras)
    ]
    FakePicamera2.instances = []
    FakePicamera2.start_error = None
    FakePicamera2.capture_error = None
    FakePicamera2.frame_format = None
