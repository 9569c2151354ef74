"""The models folder: every model file a backend knows, where it is looked for, and its hash.

One folder (``pose.models_dir``, default ``<data_dir>/models``) holds every backend's files;
``pose.model_path`` still overrides the file of the chosen backend. ``hiitpi models`` lists what
is there; ``hiitpi models fetch NAME`` downloads an official file and checks its pinned sha256.
Nothing here runs at app start-up: a missing file is a :class:`ModelError` that names the
fetch command.

BlazePose's files come from the npm package ``@mediapipe/pose`` (Apache-2.0): its tarball holds
``pose_landmark_{lite,full,heavy}.tflite``, and its ``pose_solution_packed_assets.data`` is the
pose detector (the package's loader maps that whole file to ``pose_detection.tflite``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hiitpi.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

NPM_POSE = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
CORAL_TEST_DATA = "https://github.com/google-coral/test_data/raw/master/"
FETCH_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model file a backend uses: ``filename`` in the models folder, with its pinned hash."""

    name: str
    filename: str
    sha256: str | None
    size: int | None
    what: str
    url: str | None = None  # a file, or a .tgz holding ``member``
    member: str | None = None


MODELS: dict[str, ModelFile] = {
    m.name: m
    for m in (
        ModelFile(
            "blazepose-detector",
            "pose_detection.tflite",
            "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
            2962288,
            "BlazePose person detector (224x224 SSD), every complexity",
            NPM_POSE,
            "package/pose_solution_packed_assets.data",
        ),
        ModelFile(
            "blazepose-lite",
            "pose_landmark_lite.tflite",
            "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
            2819824,
            "BlazePose landmarks, model_complexity 0",
            NPM_POSE,
            "package/pose_landmark_lite.tflite",
        ),
        ModelFile(
            "blazepose-full",
            "pose_landmark_full.tflite",
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
            6440512,
            "BlazePose landmarks, model_complexity 1 (default)",
            NPM_POSE,
            "package/pose_landmark_full.tflite",
        ),
        ModelFile(
            "blazepose-heavy",
            "pose_landmark_heavy.tflite",
            "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
            27709200,
            "BlazePose landmarks, model_complexity 2",
            NPM_POSE,
            "package/pose_landmark_heavy.tflite",
        ),
        ModelFile(
            "movenet-lightning",
            "movenet_single_pose_lightning_ptq.tflite",
            "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105",
            2894840,
            "MoveNet Lightning int8 (movenet backend, CPU)",
            CORAL_TEST_DATA + "movenet_single_pose_lightning_ptq.tflite",
        ),
        ModelFile(
            "movenet-lightning-edgetpu",
            "movenet_single_pose_lightning_ptq_edgetpu.tflite",
            "25c88b77586f65c5c80d868c0555fb194f2b38c0b55aa491f4a93b7d7da58e78",
            3087168,
            "MoveNet Lightning for the Coral Edge TPU (--delegate edgetpu)",
            CORAL_TEST_DATA + "movenet_single_pose_lightning_ptq_edgetpu.tflite",
        ),
        ModelFile(
            "posenet",
            "posenet_mobilenet_v1_075_481_641_quant_decoder.tflite",
            None,  # no copy here to pin: google-coral/project-posenet, with posenet_decoder.so
            None,
            "the original HIIT PI's PoseNet with Coral's decoder op (posenet backend)",
        ),
    )
}
# What `make install` fetches: the default backend at every complexity, with its detector.
DEFAULT_MODELS = ("blazepose-detector", "blazepose-lite", "blazepose-full", "blazepose-heavy")
BLAZEPOSE_BY_COMPLEXITY = {0: "blazepose-lite", 1: "blazepose-full", 2: "blazepose-heavy"}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Found:
    """What the models folder holds for one known model."""

    model: ModelFile
    path: Path
    size: int | None
    sha256: str | None

    @property
    def status(self) -> str:
        if self.size is None:
            return "missing"
        if self.model.sha256 is None:
            return "found (no pinned hash)"
        return "OK" if self.sha256 == self.model.sha256 else "MISMATCH"


def inspect(models_dir: Path, names: Iterable[str] | None = None) -> list[Found]:
    """Look each known model (or ``names``) up in ``models_dir``."""
    out: list[Found] = []
    for name in names or MODELS:
        model = MODELS[name]
        path = models_dir / model.filename
        if path.is_file():
            out.append(Found(model, path, path.stat().st_size, sha256_of(path)))
        else:
            out.append(Found(model, path, None, None))
    return out


def resolve(models_dir: Path, name: str) -> Path:
    """The path of model ``name`` in ``models_dir``: it must exist and match its pinned hash."""
    found = inspect(models_dir, [name])[0]
    if found.status == "missing":
        raise ModelError(
            f"{found.model.filename} ({found.model.what}) is not in the models folder "
            f"{models_dir}: run `hiitpi models fetch {name}` (or set pose.model_path)"
        )
    if found.status == "MISMATCH":
        raise ModelError(
            f"{found.path} is not the expected {name} model (sha256 {found.sha256}, expected "
            f"{found.model.sha256}): delete it and run `hiitpi models fetch {name}`"
        )
    return found.path


def _download(url: str) -> bytes:
    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
            data: bytes = response.read()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot download {url}: {exc}") from None
    return data


def _member(archive: bytes, member: str, url: str) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            f = tar.extractfile(member)
            if f is None:
                raise KeyError(member)
            return f.read()
    except (KeyError, tarfile.TarError) as exc:
        raise ModelError(f"{url} has no file {member}: {exc}") from None


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ModelError(f"cannot write {target}: {exc}") from None


def fetch(
    models_dir: Path, names: Iterable[str], force: bool = False, archive: Path | None = None
) -> list[Found]:
    """Download the official files of ``names`` into ``models_dir``, each checked against its
    pinned sha256 before it is written; files already there and OK are kept (unless
    ``force``). One download serves every file of the same archive. ``archive``: a copy of
    the npm package's tarball already on disk (e.g. from ``npm pack``) instead of a download."""
    names = list(names)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ConfigError(f"unknown model {unknown[0]!r}; known: {', '.join(MODELS)}")
    archives: dict[str, bytes] = {}
    if archive is not None:
        try:
            archives[NPM_POSE] = Path(archive).read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read {archive}: {exc}") from None
    for found in inspect(models_dir, names):
        model = found.model
        if found.status == "OK" and not force:
            continue
        if model.url is None or model.sha256 is None:
            raise ModelError(
                f"{model.name} has no official download to check: put {model.filename} "
                f"into {models_dir} yourself"
            )
        if model.url not in archives:
            archives[model.url] = _download(model.url)
        blob = archives[model.url]
        data = _member(blob, model.member, model.url) if model.member else blob
        digest = hashlib.sha256(data).hexdigest()
        if digest != model.sha256:
            raise ModelError(
                f"{model.name}: the file from {model.url} has sha256 {digest}, expected "
                f"{model.sha256}; nothing written"
            )
        _write(found.path, data)
        log.info("%s -> %s", model.name, found.path)
    return inspect(models_dir, names)
