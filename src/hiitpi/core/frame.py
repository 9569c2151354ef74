"""A video frame with its position in the stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: a BGR ``uint8`` image of shape (height, width, 3).

    ``t`` is the frame's time in seconds from the start of the stream (media time for files,
    monotonic capture time for cameras); ``index`` counts frames read from the source.
    ``captured`` is the ``time.monotonic()`` at which a live capture thread handed the frame
    on (0.0 when unknown, e.g. offline): the start of the engine's latency measurements.
    """

    image: NDArray[np.uint8]
    index: int
    t: float
    source_id: str = ""
    captured: float = 0.0

    def __post_init__(self) -> None:
        shape = getattr(self.image, "shape", None)
        if shape is None or len(shape) != 3 or shape[2] != 3:
            raise ValueError(f"expected an image of shape (height, width, 3), got {shape}")
        if self.image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image, got {self.image.dtype}")
        if self.index < 0:
            raise ValueError(f"frame index must be >= 0, got {self.index}")

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
