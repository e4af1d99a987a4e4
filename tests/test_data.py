"""Tests of nesy.data: sources in order, verification, atomic writes, archives, MNIST.

No test touches the network: the downloader is replaced by fakes. The real offline
mirror (NESY_DATA_MIRROR or ../shared/data) is read; tests that need it skip without it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import nesy.data as data
from nesy.data import archives, atomic, registry, sources

REAL_MIRROR = data.mirror_dir()
REAL_REGISTRY = registry.registry_path()
LABELS = "t10k-labels-idx1-ubyte.gz"  # 4.5 kB: the small real file most tests use
needs_mirror = pytest.mark.skipif(
    not (REAL_MIRROR / "SHA256SUMS").is_file(), reason=f"offline mirror not found at {REAL_MIRROR}"
)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def no_network(url, progress=None):
    raise urllib.error.URLError("network disabled in tests")


def serve(path, log=None):
    """A fake downloader serving the bytes of a local file (recording the URLs asked for)."""

    def fake(url, progress=None):
        if log is not None:
            log.append(url)
        yield from atomic.file_chunks(path, size=1000)

    return fake


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty cache in tmp, the real mirror and registry, no network, no progress bars."""
    for var in ("NESY_DATA_MIRROR", "NESY_DATA_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NESY_DATA_MIRROR", str(REAL_MIRROR))
    monkeypatch.setenv("NESY_DATA_REGISTRY", str(REAL_REGISTRY))
    monkeypatch.setenv("NESY_PROGRESS", "0")
    monkeypatch.setattr(sources, "download_chunks", no_network)
    return tmp_path


def small_mirror(root: Path, corrupt: bool = False) -> Path:
    """A tmp mirror holding a copy of the real t10k labels file (one byte flipped if corrupt)."""
    (root / "mnist").mkdir(parents=True)
    blob = bytearray((REAL_MIRROR / "mnist" / LABELS).read_bytes())
    if corrupt:
        blob[len(blob) // 2] ^= 0xFF
    (root / "mnist" / LABELS).write_bytes(bytes(blob))
    sums = [line for line in (REAL_MIRROR / "SHA256SUMS").read_text().splitlines() if LABELS in line]
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return root


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders left in `folder` (recursively)."""
    return [p.name for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith(".download-")]


# --- the registry and the real mirror ---------------------------------------------------


@needs_mirror
def test_registry_pins_every_mirror_file():
    sums = sources.mirror_sums(REAL_MIRROR)
    pinned = {
        spec.mirror_path: spec.mirror_sha256
        for files in registry.load()["specs"].values()
        for spec in files.values()
        if spec.mirror_path
    }
    assert pinned == sums


@needs_mirror
def test_mirror_mnist_files_match_their_checksums():
    for name in data.files("mnist"):
        spec = registry.file_spec("mnist", name)
        path = REAL_MIRROR / spec.mirror_path
        assert path.stat().st_size == spec.size
        assert atomic.verify(path, {"sha256": {spec.mirror_sha256}}) == "sha256"
        # the gunzipped bytes are the canonical IDX bytes
        assert atomic.gunzip_sha256(path) == spec.content_sha256


def test_available_lists_datasets():
    assert {"mnist", "cifar10", "imagenette", "fer2013", "imagenet-val"} <= set(data.available())
    assert LABELS in data.files("mnist")


# --- real MNIST ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_real(tmp_path_factory):
    if not (REAL_MIRROR / "SHA256SUMS").is_file():
        pytest.skip(f"offline mirror not found at {REAL_MIRROR}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NESY_DATA_CACHE", str(tmp_path_factory.mktemp("mnist_cache")))
        mp.setenv("NESY_DATA_MIRROR", str(REAL_MIRROR))
        mp.setenv("NESY_DATA_REGISTRY", str(REAL_REGISTRY))
        mp.setenv("NESY_PROGRESS", "0")
        mp.setattr(sources, "download_chunks", no_network)
        train, test = data.mnist("train"), data.mnist("test")
        start = time.perf_counter()
        again = data.mnist("train")
        second_call_s = time.perf_counter() - start
    return {"train": train, "test": test, "again": again, "second_call_s": second_call_s}


def test_mnist_shapes_and_dtypes(mnist_real):
    for split, n in (("train", 60_000), ("test", 10_000)):
        images, labels = mnist_real[split]
        assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert int(labels.min()) == 0 and int(labels.max()) == 9
        assert int(images.max()) == 255 and int(images.min()) == 0


def test_mnist_known_facts(mnist_real):
    (train_x, train_y), (test_x, test_y) = mnist_real["train"], mnist_real["test"]
    assert train_y[:5].tolist() == [5, 0, 4, 1, 9]
    assert test_y[:5].tolist() == [7, 2, 1, 0, 4]
    counts = torch.bincount(train_y, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(test_y, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert int(train_x[0].sum()) == 27525  # the canonical first "5"


def test_mnist_second_call_is_cached_and_fast(mnist_real):
    assert mnist_real["second_call_s"] < 1.0
    assert torch.equal(mnist_real["again"][0], mnist_real["train"][0])
    assert torch.equal(mnist_real["again"][1], mnist_real["train"][1])


def test_mnist_bad_split_names_parameter_and_values():
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'test', got 'val'"):
        data.mnist("val")


# --- the three sources, in order ---------------------------------------------------------


@needs_mirror
def test_mirror_used_and_cache_filled(env):
    path = data.fetch("mnist", LABELS)
    assert path == env / "cache" / "mnist" / LABELS
    assert path.read_bytes() == (REAL_MIRROR / "mnist" / LABELS).read_bytes()
    assert leftovers(env / "cache") == []


@needs_mirror
def test_cache_used_without_touching_mirror(env, monkeypatch):
    first = data.fetch("mnist", LABELS)
    empty = env / "empty_mirror"
    empty.mkdir()
    monkeypatch.setenv("NESY_DATA_MIRROR", str(empty))
    monkeypatch.setattr(sources, "_from_mirror", lambda *a: pytest.fail("mirror touched"))
    assert data.fetch("mnist", LABELS) == first


def test_no_source_gives_one_clear_error(env, monkeypatch):
    missing = env / "no_mirror"
    monkeypatch.setenv("NESY_DATA_MIRROR", str(missing))
    with pytest.raises(data.DataUnavailableError) as info:
        data.fetch("mnist", LABELS)
    err = info.value
    assert isinstance(err, RuntimeError)
    msg = str(err)
    assert [source for source, _ in err.attempts] == ["project cache", "offline mirror", "download"]
    assert "1. project cache" in msg and "2. offline mirror" in msg and "3. download" in msg
    assert str(env / "cache" / "mnist" / LABELS) in msg and "path missing" in msg
    assert str(missing / "mnist" / LABELS) in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz" in msg
    assert "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz" in msg
    assert "download error" in msg and "network disabled in tests" in msg
    assert "NESY_DATA_MIRROR" in msg and "internet" in msg
    assert not (env / "cache" / "mnist" / LABELS).exists()


@pytest.mark.parametrize("loader", ["imagenette", "cifar10"])
def test_a_loader_with_a_fallback_names_both_copies_when_neither_is_found(env, monkeypatch, loader):
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    with pytest.raises(data.DataUnavailableError) as info:
        getattr(data, loader)("val" if loader == "imagenette" else "test")
    sources_tried = [source for source, _ in info.value.attempts]
    assert sources_tried == ["project cache", "offline mirror", "download"] * 2   # the mirror's copy, then the canonical
    assert "network disabled in tests" in str(info.value)                           # the canonical download was tried


def test_offline_switch_skips_download(env, monkeypatch):
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    monkeypatch.setenv("NESY_DATA_OFFLINE", "1")
    monkeypatch.setattr(sources, "download_chunks", lambda *a, **k: pytest.fail("network touched"))
    with pytest.raises(data.DataUnavailableError, match="NESY_DATA_OFFLINE is set"):
        data.fetch("mnist", LABELS)


@needs_mirror
def test_download_used_and_verified(env, monkeypatch):
    """No mirror: the first URL fails, the second serves bytes whose gunzipped content is canonical."""
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    asked = []
    good = serve(REAL_MIRROR / "mnist" / LABELS, asked)

    def flaky(url, progress=None):
        if "ossci" in url:
            asked.append(url)
            raise urllib.error.URLError("unreachable")
        return good(url, progress)

    monkeypatch.setattr(sources, "download_chunks", flaky)
    path = data.fetch("mnist", LABELS)
    assert asked == list(registry.file_spec("mnist", LABELS).urls)
    assert sha256(path) == sha256(REAL_MIRROR / "mnist" / LABELS)
    assert leftovers(env / "cache") == []


@needs_mirror
def test_download_gzipped_into_cache(env, monkeypatch):
    """A plain-text canonical download is verified, then gzipped under the registered name."""
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    raw = env / "image_sizes.txt"
    raw.write_bytes(gzip.decompress((REAL_MIRROR / "imagenet-val" / "image_sizes.txt.gz").read_bytes()))
    monkeypatch.setattr(sources, "download_chunks", serve(raw))
    path = data.fetch("imagenet-val", "image_sizes.txt.gz")
    assert gzip.decompress(path.read_bytes()) == raw.read_bytes()
    assert leftovers(env / "cache") == []
    monkeypatch.setattr(sources, "download_chunks", no_network)
    assert data.fetch("imagenet-val", "image_sizes.txt.gz") == path  # accepted from the cache


def test_download_with_wrong_bytes_is_rejected(env, monkeypatch):
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    junk = env / "junk.gz"
    junk.write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr(sources, "download_chunks", serve(junk))
    with pytest.raises(data.DataUnavailableError) as info:
        data.fetch("mnist", LABELS)
    msg = str(info.value)
    assert "checksum mismatch" in msg and "ec29112dd5afa0611ce80d1b7f02629c" in msg
    assert hashlib.md5(junk.read_bytes()).hexdigest() in msg
    assert not (env / "cache" / "mnist" / LABELS).exists()
    assert leftovers(env / "cache") == []


@needs_mirror
def test_corrupted_mirror_file_is_rejected(env, monkeypatch):
    mirror = small_mirror(env / "bad_mirror", corrupt=True)
    monkeypatch.setenv("NESY_DATA_MIRROR", str(mirror))
    with pytest.raises(data.DataUnavailableError) as info:
        data.fetch("mnist", LABELS)
    mirror_reason = dict(info.value.attempts)["offline mirror"]
    expected = registry.file_spec("mnist", LABELS).mirror_sha256
    assert "checksum mismatch" in mirror_reason
    assert expected in mirror_reason and sha256(mirror / "mnist" / LABELS) in mirror_reason
    cache = env / "cache"
    assert not (cache / "mnist" / LABELS).exists()
    assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []


@needs_mirror
def test_mirror_sha256sums_disagreeing_with_registry_is_rejected(env, monkeypatch):
    mirror = small_mirror(env / "odd_mirror")
    (mirror / "SHA256SUMS").write_text(f"{'0' * 64}  ./mnist/{LABELS}\n")
    monkeypatch.setenv("NESY_DATA_MIRROR", str(mirror))
    with pytest.raises(data.DataUnavailableError, match="SHA256SUMS lists sha256 0000"):
        data.fetch("mnist", LABELS)


@needs_mirror
def test_good_small_mirror_is_used(env, monkeypatch):
    monkeypatch.setenv("NESY_DATA_MIRROR", str(small_mirror(env / "good_mirror")))
    assert sha256(data.fetch("mnist", LABELS)) == registry.file_spec("mnist", LABELS).mirror_sha256


@needs_mirror
def test_corrupted_cache_file_is_refetched(env):
    path = data.fetch("mnist", LABELS)
    blob = bytearray(path.read_bytes())
    blob[100] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert data.fetch("mnist", LABELS) == path
    assert sha256(path) == registry.file_spec("mnist", LABELS).mirror_sha256


def test_corrupted_cache_without_other_source_is_reported(env, monkeypatch):
    monkeypatch.setenv("NESY_DATA_MIRROR", str(env / "no_mirror"))
    path = env / "cache" / "mnist" / LABELS
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    with pytest.raises(data.DataUnavailableError, match="corrupted, checksum mismatch"):
        data.fetch("mnist", LABELS)


# --- atomic writes ---------------------------------------------------------------------------


def test_atomic_write_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out" / "file.bin"

    def chunks():
        yield b"x" * 1000
        raise OSError("connection reset mid-write")

    with pytest.raises(OSError, match="mid-write"):
        atomic.atomic_write(target, chunks())
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_write_failed_check_keeps_old_file(tmp_path):
    target = tmp_path / "file.bin"
    atomic.atomic_write(target, b"old")

    def reject(p):
        raise data.ChecksumError("nope")

    with pytest.raises(data.ChecksumError):
        atomic.atomic_write(target, [b"new", b"er"], check=reject)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]
    atomic.atomic_write(target, lambda f: f.write(b"newer"))
    assert target.read_bytes() == b"newer"


def test_atomic_write_removes_what_a_killed_writer_left(tmp_path):
    import os

    target = tmp_path / "file.bin"
    old, fresh = tmp_path / ".file.bin.dead1.part", tmp_path / ".file.bin.live2.part"
    other = tmp_path / ".other.bin.dead3.part"
    for p in (old, fresh, other):
        p.write_bytes(b"partial")
    hours_ago = time.time() - 2 * atomic.STALE_PART_S
    for p in (old, other):
        os.utime(p, (hours_ago, hours_ago))
    atomic.atomic_write(target, b"done")
    assert target.read_bytes() == b"done"
    assert not old.exists() and fresh.exists() and other.exists()  # a live writer's and another file's stay


def test_cached_tensors_rebuilds_corrupted_file(env):
    calls = []

    def build():
        calls.append(1)
        return {"x": torch.arange(5)}

    assert torch.equal(data.cached_tensors("toy", "t-v1", build)["x"], torch.arange(5))
    assert torch.equal(data.cached_tensors("toy", "t-v1", build)["x"], torch.arange(5))
    assert len(calls) == 1
    path = env / "cache" / "toy" / "t-v1.pt"
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    assert torch.equal(data.cached_tensors("toy", "t-v1", build)["x"], torch.arange(5))
    assert len(calls) == 2


# --- archives ----------------------------------------------------------------------------------


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return sha256(path)


@pytest.fixture
def toy(env, monkeypatch):
    """A tmp mirror and registry with a toy dataset of small archives."""
    mirror = env / "toy_mirror"
    (mirror / "toy").mkdir(parents=True)
    good = {"train/a/0.txt": b"zero", "train/b/1.txt": b"one", "README": b"toy"}
    archives = {
        "toy.tar.gz": make_tar(mirror / "toy" / "toy.tar.gz", good),
        "evil.tar.gz": make_tar(mirror / "toy" / "evil.tar.gz", {"ok.txt": b"ok", "../../escaped.txt": b"x"}),
        "link.tar.gz": make_tar(mirror / "toy" / "link.tar.gz", {"ok.txt": b"ok"}, {"passwd": "/etc/passwd"}),
    }
    (mirror / "toy" / "notes.txt").write_bytes(b"notes")
    files = {name: {"mirror": {"path": f"toy/{name}", "sha256": digest}} for name, digest in archives.items()}
    files["notes.txt"] = {"mirror": {"path": "toy/notes.txt", "sha256": sha256(mirror / "toy" / "notes.txt")}}
    files["by-hand.bin"] = {"download": {"urls": [], "md5": hashlib.md5(b"hand").hexdigest()}, "note": "ask a friend"}
    reg = env / "registry.yaml"
    reg.write_text(yaml.safe_dump({"datasets": {"toy": {"files": files}}}))
    monkeypatch.setenv("NESY_DATA_REGISTRY", str(reg))
    monkeypatch.setenv("NESY_DATA_MIRROR", str(mirror))
    return {"mirror": mirror, "good": good, "cache": env / "cache" / "toy"}


def test_unpack_archive_once(toy, monkeypatch):
    root = data.unpack_archive("toy", "toy.tar.gz")
    assert root == toy["cache"] / "toy"
    for name, blob in toy["good"].items():
        assert (root / name).read_bytes() == blob
    assert leftovers(toy["cache"]) == []
    monkeypatch.setenv("NESY_DATA_MIRROR", str(toy["mirror"] / "gone"))
    monkeypatch.setattr(archives, "fetch", lambda *a, **k: pytest.fail("fetched again"))
    assert data.unpack_archive("toy", "toy.tar.gz") == root


def test_unpack_archive_redoes_an_incomplete_folder(toy):
    root = data.unpack_archive("toy", "toy.tar.gz")
    (root / "train" / "a" / "0.txt").unlink()
    assert data.unpack_archive("toy", "toy.tar.gz") == root
    assert (root / "train" / "a" / "0.txt").read_bytes() == b"zero"


_UNPACK_RACER = """
import os, sys, time
from nesy.data import archives
slow = archives._extract
def _extract(*args, **kwargs):  # both processes are inside the unpack at once
    out = slow(*args, **kwargs)
    time.sleep(1.0)
    return out
archives._extract = _extract
root = archives.unpack_archive("toy", "toy.tar.gz")
handed = os.stat(root).st_ino
open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
while len(os.listdir(sys.argv[1])) < 2:  # until the other process has its folder too
    time.sleep(0.05)
assert os.stat(root).st_ino == handed, "the folder this process was handed was replaced"
assert open(os.path.join(root, "train", "a", "0.txt"), "rb").read() == b"zero"
print(handed)
"""


@pytest.mark.integration
def test_concurrent_unpacks_share_one_folder(toy, tmp_path):
    """Two processes unpacking into an empty cache: the second never replaces the first's folder."""
    import subprocess
    import sys

    done = tmp_path / "done"
    done.mkdir()
    racers = [subprocess.Popen([sys.executable, "-c", _UNPACK_RACER, str(done)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [r.communicate(timeout=60) for r in racers]
    for racer, (out, err) in zip(racers, outs):
        assert racer.returncode == 0, err
    assert outs[0][0] == outs[1][0]  # one folder, handed to both
    assert leftovers(toy["cache"]) == []


def test_unpack_removes_what_a_killed_unpack_left(toy):
    toy["cache"].mkdir(parents=True)
    (toy["cache"] / ".toy.abc123.part" / "train").mkdir(parents=True)
    (toy["cache"] / ".toy.def456.stale").mkdir()
    (toy["cache"] / ".toy-other.abc.part").mkdir()  # another archive's: not ours to remove
    data.unpack_archive("toy", "toy.tar.gz")
    assert sorted(p.name for p in toy["cache"].iterdir() if p.is_dir()) == [".toy-other.abc.part", "toy"]


@pytest.mark.parametrize("archive, why", [("evil.tar.gz", "outside"), ("link.tar.gz", "is a link")])
def test_unpack_archive_rejects_unsafe_members(toy, archive, why):
    with pytest.raises(data.UnsafeArchiveError, match=why):
        data.unpack_archive("toy", archive)
    assert not (toy["cache"] / archive.removesuffix(".tar.gz")).exists()
    assert leftovers(toy["cache"]) == []
    assert not (toy["cache"].parent / "escaped.txt").exists()
    assert not any(p.name == "escaped.txt" for p in toy["cache"].parent.parent.rglob("escaped.txt"))


def test_file_placed_by_hand_is_verified(toy):
    with pytest.raises(data.DataUnavailableError, match="ask a friend"):
        data.fetch("toy", "by-hand.bin")
    path = toy["cache"] / "by-hand.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"hand")
    assert data.fetch("toy", "by-hand.bin") == path


# --- bad parameters and formats ------------------------------------------------------------------


def test_bad_names_raise_value_errors(toy):
    with pytest.raises(ValueError, match=r"dataset must be one of 'toy', got 'nope'"):
        data.fetch("nope", "x")
    with pytest.raises(ValueError, match=r"file must be one of .*'toy.tar.gz'.* for dataset 'toy', got 'x'"):
        data.fetch("toy", "x")
    with pytest.raises(ValueError, match=r"archive must name a tar archive .*got 'notes.txt'"):
        data.unpack_archive("toy", "notes.txt")


def test_read_idx_checks_magic_and_dims(tmp_path):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    good = tmp_path / "labels.idx.gz"
    good.write_bytes(gzip.compress((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + labels.tobytes()))
    assert data.read_idx(good, magic=2049).tolist() == [3, 1, 4]
    with pytest.raises(data.FormatError, match=r"magic number 2049 \(0x801\), expected 2051"):
        data.read_idx(good, magic=2051)
    short = tmp_path / "short.idx"
    short.write_bytes((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + labels.tobytes())
    with pytest.raises(data.FormatError, match=r"dims \(5,\) need 5 data bytes, the file has 3"):
        data.read_idx(short)
    junk = tmp_path / "junk.idx"
    junk.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(data.FormatError, match="not an IDX file"):
        data.read_idx(junk)


def test_malformed_registry_is_reported(tmp_path, monkeypatch):
    reg = tmp_path / "registry.yaml"
    reg.write_text(yaml.safe_dump({"datasets": {"x": {"files": {"f": {"download": {"urls": ["http://e/f"]}}}}}}))
    monkeypatch.setenv("NESY_DATA_REGISTRY", str(reg))
    with pytest.raises(data.RegistryError, match="need a pinned sha256, md5 or content_sha256"):
        data.available()
    monkeypatch.setenv("NESY_DATA_REGISTRY", str(tmp_path / "missing.yaml"))
    with pytest.raises(data.RegistryError, match="NESY_DATA_REGISTRY"):
        data.available()


@pytest.mark.parametrize("failure", [RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 832 vs 726"),
                                     OSError(28, "No space left on device")])
def test_cached_tensors_survives_a_full_disk(env, monkeypatch, failure):
    """A cache write that fails (as torch.save fails on a full disk) warns, returns the tensors, leaves no file."""
    from nesy.data import derived

    def full_disk(obj, f):
        f.write(b"PK partial")
        raise failure

    with monkeypatch.context() as patched:
        patched.setattr(derived.torch, "save", full_disk)
        with pytest.warns(data.CacheWriteWarning, match=r"not cached: .*t-v1\.pt .* free there"):
            tensors = data.cached_tensors("toy", "t-v1", lambda: {"x": torch.arange(3)})
    assert torch.equal(tensors["x"], torch.arange(3))
    assert list((env / "cache" / "toy").iterdir()) == []
    assert torch.equal(data.cached_tensors("toy", "t-v1", lambda: {"x": torch.arange(3)})["x"], torch.arange(3))
    assert sorted(p.name for p in (env / "cache" / "toy").iterdir()) == ["t-v1.pt", "t-v1.pt.sha256"]


@pytest.mark.parametrize("failure", [OSError(30, "Read-only file system"), PermissionError(13, "Permission denied")])
def test_cached_tensors_on_a_read_only_cache(env, monkeypatch, failure):
    """A cache that cannot be written at all (read-only, not ours) warns and returns the tensors."""
    from nesy.data import atomic as atomic_module

    def refuse(*args, **kwargs):
        raise failure

    monkeypatch.setattr(atomic_module.tempfile, "mkstemp", refuse)
    with pytest.warns(data.CacheWriteWarning, match="not cached"):
        tensors = data.cached_tensors("toy", "ro-v1", lambda: {"x": torch.arange(4)})
    assert torch.equal(tensors["x"], torch.arange(4))


def test_cached_tensors_leaves_the_random_stream_alone(env):
    """A cache miss whose build draws random numbers leaves torch's RNG where a hit leaves it."""
    def build():
        torch.rand(5)  # e.g. a model's random initialisation before its weights load
        return {"x": torch.arange(3)}

    after = []
    for _ in range(2):  # a miss, then a hit
        torch.manual_seed(7)
        data.cached_tensors("toy", "rng-v1", build)
        after.append(torch.rand(3))
    torch.manual_seed(7)
    assert torch.equal(after[0], after[1]) and torch.equal(after[0], torch.rand(3))


def test_registry_yaml_error_names_file_and_line(toy, tmp_path, monkeypatch):
    bad = tmp_path / "bad-registry.yaml"
    bad.write_text("datasets:\n  toy:\n    files: {a: [1, 2}\n")
    monkeypatch.setenv("NESY_DATA_REGISTRY", str(bad))
    with pytest.raises(data.RegistryError, match=r"YAML error in .*bad-registry.yaml, line 3"):
        data.fetch("toy", "toy.tar.gz")
    bad.write_bytes(b"datasets: \xff\n")
    with pytest.raises(data.RegistryError, match="is not UTF-8 text"):
        data.fetch("toy", "toy.tar.gz")


def test_non_utf8_sha256sums_is_named(toy):
    (toy["mirror"] / "SHA256SUMS").write_bytes(b"\xff\xfe  toy/toy.tar.gz\n")
    with pytest.raises(data.RegistryError, match=r"SHA256SUMS is not UTF-8 text"):
        data.fetch("toy", "toy.tar.gz")
