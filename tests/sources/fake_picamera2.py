"""TEST DOUBLE of picamera2's capture API. We have no Raspberry Pi camera here.

It imitates only what ``PiCameraSource`` and ``CameraView`` call, with picamera2's real names
and behaviour: ``Picamera2.global_camera_info()`` (a static method listing attached cameras),
``Picamera2(camera_num)``, ``create_video_configuration(main=..., lores=..., controls=...)``,
``configure``, ``start``, ``capture_array(name)``, ``capture_request()`` (a request with
``make_array(name)`` and ``release()``: every stream of one request is the same exposure),
``pre_callback``, ``start_encoder``/``stop_encoder``, ``stop`` and ``close``; and the modules
``picamera2.platform`` (``Platform.VC4``/``PISP``, ``get_platform()``), ``picamera2.encoders``
(``MJPEGEncoder``: a ``V4L2Encoder`` subclass when ``hardware_jpeg`` is set, as on a Pi 4, else
picamera2's libav software alias, as on a Pi 5; ``Quality``), ``picamera2.outputs.FileOutput``
and ``MappedArray``. For ``RGB888`` picamera2 delivers ``[B, G, R]`` bytes (Picamera2 manual,
"Image formats"), so this double does the same; ``YUV420`` is planar I420 of shape
(h * 3 / 2, w). Like libcamera, it refuses a lores stream larger than main, and a non-YUV lores
on VC4. The "hardware encoder" here is OpenCV's JPEG encoder. Injected as
``sys.modules["picamera2"...]`` by the ``fake_picamera2`` fixture; nothing here says the real
library, a real camera or a real encoder works.
"""

from __future__ import annotations

import enum
import types
from typing import Any, ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray


class Platform(enum.Enum):
    VC4 = 0
    PISP = 1


class Quality(enum.Enum):
    VERY_LOW = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4


class V4L2Encoder:
    """picamera2's base class of its hardware (V4L2 bcm2835-codec) encoders."""


class HardwareMJPEGEncoder(V4L2Encoder):
    pass


class LibavMjpegEncoder:
    """picamera2's software MJPEG encoder (what ``MJPEGEncoder`` names on a Pi 5)."""


class FileOutput:
    def __init__(self, file: Any = None) -> None:
        self.fileoutput = file


class MappedArray:
    def __init__(self, request: FakeRequest, stream: str) -> None:
        self.array = request.arrays[stream]

    def __enter__(self) -> MappedArray:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeRequest:
    """One completed request: every configured stream's array from the same exposure."""

    def __init__(self, arrays: dict[str, NDArray[np.uint8]]) -> None:
        self.arrays = arrays
        self.released = False

    def make_array(self, name: str) -> NDArray[np.uint8]:
        if self.released:
            raise RuntimeError("request already released")
        return self.arrays[name].copy()

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """One fake camera. Class attributes steer the next instance (reset by the fixture)."""

    cameras: ClassVar[list[dict[str, Any]]] = []
    instances: ClassVar[list[FakePicamera2]] = []
    start_error: ClassVar[Exception | None] = None
    capture_error: ClassVar[Exception | None] = None
    frame_format: ClassVar[str | None] = None  # overrides the configured format when set
    platform: ClassVar[Platform] = Platform.VC4
    hardware_jpeg: ClassVar[bool] = True

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
        self.pre_callback: Any = None
        self.encoder: Any = None
        self.output: Any = None
        self.encoder_name: str | None = None
        self.encoder_quality: Any = None
        FakePicamera2.instances.append(self)

    def create_video_configuration(
        self,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        controls: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.calls.append("create_video_configuration")
        main = {"format": "XBGR8888", "size": (1280, 720), **(main or {})}
        if lores is not None:
            lores = {"format": "YUV420", **lores}
        return {"use_case": "video", "main": main, "lores": lores, "controls": dict(controls or {})}

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append("configure")
        lores = config.get("lores")
        if lores is not None:
            (mw, mh), (lw, lh) = config["main"]["size"], lores["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
            if FakePicamera2.platform is Platform.VC4 and lores["format"] != "YUV420":
                raise RuntimeError("lores stream must be YUV on VC4")
        self.config = config

    def start(self) -> None:
        self.calls.append("start")
        if FakePicamera2.start_error is not None:
            raise FakePicamera2.start_error
        if self.config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def _array(self, name: str, n: int) -> NDArray[np.uint8]:
        assert self.config is not None and self.config.get(name) is not None, name
        width, height = self.config[name]["size"]
        fmt = FakePicamera2.frame_format or self.config[name]["format"]
        if fmt == "YUV420":
            bgr = bgr_test_pattern(width, height, n)
            return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), np.uint8)
        return bgr_test_pattern(width, height, n, fmt)

    def _check_capture(self) -> None:
        if not self.started:
            raise RuntimeError("Camera must be started before capture")
        if FakePicamera2.capture_error is not None:
            raise FakePicamera2.capture_error

    def capture_array(self, name: str = "main") -> NDArray[np.uint8]:
        self._check_capture()
        self.captured += 1
        return self._array(name, self.captured)

    def capture_request(self) -> FakeRequest:
        self._check_capture()
        self.captured += 1
        assert self.config is not None
        names = [n for n in ("main", "lores") if self.config.get(n) is not None]
        return FakeRequest({n: self._array(n, self.captured) for n in names})

    def start_encoder(
        self, encoder: Any, output: Any, name: str = "main", quality: Any = None
    ) -> None:
        self.calls.append("start_encoder")
        self.encoder, self.output, self.encoder_name = encoder, output, name
        self.encoder_quality = quality

    def stop_encoder(self, encoder: Any = None) -> None:
        self.calls.append("stop_encoder")
        self.encoder = None

    def encode_one(self) -> None:
        """What the camera does for each frame while an encoder runs: the pre_callback on
        the request, then the encoder's JPEG of the stream to its output."""
        assert self.encoder is not None and self.encoder_name is not None
        self.captured += 1
        request = FakeRequest({self.encoder_name: self._array(self.encoder_name, self.captured)})
        if self.pre_callback is not None:
            self.pre_callback(request)
        ok, jpeg = cv2.imencode(".jpg", request.arrays[self.encoder_name][..., :3])
        assert ok
        self.output.fileoutput.write(jpeg.tobytes())

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
    return make_modules()["picamera2"]


def make_modules() -> dict[str, types.ModuleType]:
    """``picamera2`` and the submodules the source uses, for ``sys.modules``."""
    doc = "TEST DOUBLE of picamera2 (tests/sources/fake_picamera2.py)"
    mods = {name: types.ModuleType(name) for name in (
        "picamera2", "picamera2.platform", "picamera2.encoders",
        "picamera2.encoders.v4l2_encoder", "picamera2.outputs",
    )}  # fmt: skip
    root = mods["picamera2"]
    root.__path__ = []  # type: ignore[attr-defined]
    root.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    root.MappedArray = MappedArray  # type: ignore[attr-defined]
    mods["picamera2.platform"].Platform = Platform  # type: ignore[attr-defined]
    mods["picamera2.platform"].get_platform = lambda: FakePicamera2.platform  # type: ignore[attr-defined]
    enc = mods["picamera2.encoders"]
    enc.__path__ = []  # type: ignore[attr-defined]
    enc.MJPEGEncoder = (  # type: ignore[attr-defined]
        HardwareMJPEGEncoder if FakePicamera2.hardware_jpeg else LibavMjpegEncoder
    )
    enc.Quality = Quality  # type: ignore[attr-defined]
    mods["picamera2.encoders.v4l2_encoder"].V4L2Encoder = V4L2Encoder  # type: ignore[attr-defined]
    mods["picamera2.outputs"].FileOutput = FileOutput  # type: ignore[attr-defined]
    for m in mods.values():
        m.__doc__ = doc
    return mods


def reset(cameras: int = 1) -> None:
    FakePicamera2.cameras = [
        {"Model": "imx708", "Num": i, "Id": f"/fake/cam{i}"} for i in range(cameras)
    ]
    FakePicamera2.instances = []
    FakePicamera2.start_error = None
    FakePicamera2.capture_error = None
    FakePicamera2.frame_format = None
    FakePicamera2.platform = Platform.VC4
    FakePicamera2.hardware_jpeg = True
