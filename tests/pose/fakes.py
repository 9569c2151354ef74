"""TEST DOUBLES for the LiteRT backend: a fake interpreter and a fake delegate loader.

We have no Coral Edge TPU and no PoseNet decoder library here, so these stand in for
``ai_edge_litert.interpreter.Interpreter`` and ``load_delegate`` to exercise the code paths
around them (which library is loaded, that the delegate reaches the interpreter, how outputs
are decoded). They prove nothing about the real hardware: see the ``hardware`` tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TFLITE_HEADER = b"\x1c\x00\x00\x00TFL3"


def fake_model(path: Path, *custom_ops: bytes) -> Path:
    """A file that passes the TFLite magic check and names these custom ops."""
    path.write_bytes(TFLITE_HEADER + b"\x00" * 56 + b"".join(custom_ops))
    return path


class FakeDelegate:
    """What the fake ``load_delegate`` returns: remembers which library was asked for."""

    def __init__(self, library: str, options: dict[str, Any] | None) -> None:
        self.library = library
        self.options = options


class FakeInterpreter:
    """Stands in for a LiteRT interpreter with fixed outputs; records every input it gets."""

    def __init__(
        self,
        input_shape: tuple[int, ...] = (1, 192, 192, 3),
        input_dtype: type = np.uint8,
        input_quantization: tuple[float, int] = (0.0, 0),
        outputs: list[np.ndarray] | None = None,
    ) -> None:
        self.input_shape = input_shape
        self.input_dtype = input_dtype
        self.input_quantization = input_quantization
        self.outputs = outputs if outputs is not None else [np.zeros((1, 1, 17, 3), np.float32)]
        self.inputs: list[np.ndarray] = []
        self.delegates: list[Any] = []
        self.model_path: Path | None = None
        self.allocated = False

    def allocate_tensors(self) -> None:
        self.allocated = True

    def get_input_details(self) -> list[dict[str, Any]]:
        return [
            {
                "index": 0,
                "shape": np.array(self.input_shape),
                "dtype": self.input_dtype,
                "quantization": self.input_quantization,
            }
        ]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [
            {
                "index": 100 + i,
                "shape": np.array(o.shape),
                "dtype": o.dtype,
                "quantization": (0.0, 0),
            }
            for i, o in enumerate(self.outputs)
        ]

    def set_tensor(self, index: int, value: np.ndarray) -> None:
        assert index == 0
        assert value.shape == self.input_shape, value.shape
        assert value.dtype == self.input_dtype, value.dtype
        self.inputs.append(value.copy())

    def invoke(self) -> None:
        pass

    def get_tensor(self, index: int) -> np.ndarray:
        return self.outputs[index - 100]
