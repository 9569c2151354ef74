"""Logging, set up once by the CLI (modules only call ``logging.getLogger(__name__)``)."""

from __future__ import annotations

import logging
import os
import sys
import warnings


def quiet_native_logs() -> None:
    """Silence the C++ (glog/absl/TFLite) chatter of mediapipe unless asked for with DEBUG."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)


def setup_logging(level: str = "INFO") -> None:
    if level != "DEBUG":
        quiet_native_logs()
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
