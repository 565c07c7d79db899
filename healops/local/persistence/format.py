"""The snapshot file: a versioned header, then a checksummed payload; written atomically.

Layout of ``snapshot.bin`` (``FORMAT_VERSION`` 1)::

    HEALOPS-STATE\\n                 magic line
    {"format": 1, ...}\\n             header: one line of JSON (see :class:`SnapshotHeader`)
    <payload>                         ``payload_size`` bytes, zlib-compressed; sha256 in the header

and ``blobs/<sha256>``: values of 256 KB or more (function zips), stored once, named by their
checksum, referred to from the payload (see :class:`BlobStore`).

A snapshot is written to ``snapshot.tmp`` in the same folder, fsynced, then the current snapshot
is renamed to ``snapshot.prev.bin`` and the temporary file to ``snapshot.bin`` (and the folder
fsynced): a crash mid-write leaves the last complete snapshot in place, and a reader checks the
size and checksum before it trusts a byte of the payload.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"HEALOPS-STATE\n"
# Bump when what is pickled changes shape (moto's classes or ours): an older snapshot is then refused.
FORMAT_VERSION = 1
SNAPSHOT_FILE = "snapshot.bin"
PREVIOUS_FILE = "snapshot.prev.bin"
TEMPORARY_FILE = "snapshot.tmp"
MAX_HEADER_BYTES = 1 << 20


class SnapshotError(RuntimeError):
    """A snapshot that must not be loaded: corrupt, half-written or from an incompatible version."""


def runtime_versions() -> dict[str, str]:
    """What a payload's pickles depend on: moto's classes and the interpreter's minor version."""
    from importlib.metadata import version

    return {"moto": version("moto"), "python": ".".join(platform.python_version_tuple()[:2])}


@dataclass(frozen=True)
class SnapshotHeader:
    format: int
    versions: dict[str, str]
    created_at: float
    payload_size: int
    payload_sha256: str
    compression: str = "zlib"
    # What was saved, for people and `healops bench snapshot`: backends and items per service.
    contents: dict[str, Any] = field(default_factory=dict)
    # The blobs (blobs/<sha256>) the payload refers to.
    blobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    path: Path
    header: SnapshotHeader
    payload: bytes

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _private_dir(directory: Path) -> None:
    """Create ``directory`` readable by its owner only, and make it so if it exists."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)


def _open_private(path: Path) -> Any:
    """``path`` opened for writing from empty, readable by its owner only (a snapshot holds the stack's
    secrets: SecureString parameters, KMS key material, functions' environments)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_snapshot(
    directory: Path, raw_payload: bytes, created_at: float, contents: dict[str, Any], blobs: set[str] | None = None
) -> Path:
    """Compress and write ``raw_payload`` as the current snapshot, keeping the previous one; then delete
    the blobs neither of the two refers to."""
    _private_dir(directory)
    payload = zlib.compress(raw_payload, 1)
    header = SnapshotHeader(
        format=FORMAT_VERSION,
        versions=runtime_versions(),
        created_at=created_at,
        payload_size=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        contents=contents,
        blobs=sorted(blobs or ()),
    )
    temporary = directory / TEMPORARY_FILE
    temporary.unlink(missing_ok=True)  # a left-over of a crash may have been made with other permissions
    with _open_private(temporary) as out:
        out.write(MAGIC)
        out.write(json.dumps(asdict(header), separators=(",", ":")).encode() + b"\n")
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    current = directory / SNAPSHOT_FILE
    if current.exists():
        os.replace(current, directory / PREVIOUS_FILE)
    os.replace(temporary, current)
    _fsync_dir(directory)
    BlobStore(directory).keep_only(set(header.blobs) | blobs_of(directory / PREVIOUS_FILE))
    return current


def way_forward(directory: Path) -> str:
    previous = directory / PREVIOUS_FILE
    keep = "`healops up --fresh` starts empty and moves this state aside (nothing is deleted)"
    if previous.exists():
        return f"{keep}; or go back to the snapshot before it: `mv {previous} {directory / SNAPSHOT_FILE}`"
    return keep


def read_header(path: Path) -> tuple[SnapshotHeader, int]:
    """The header of the snapshot at ``path`` and the offset of its payload; SnapshotError if unreadable."""
    with path.open("rb") as src:
        if src.read(len(MAGIC)) != MAGIC:
            raise SnapshotError(f"{path} is not a Heal-Ops state snapshot (its first line is not {MAGIC!r})")
        line = src.readline(MAX_HEADER_BYTES)
        offset = src.tell()
    try:
        raw = json.loads(line)
        header = SnapshotHeader(**raw)
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"{path}: its header is damaged ({exc})") from None
    return header, offset


def check_compatible(path: Path, header: SnapshotHeader) -> None:
    ours = runtime_versions()
    if header.format != FORMAT_VERSION or header.versions != ours:
        saved = ", ".join(f"{k} {v}" for k, v in sorted(header.versions.items()))
        now = ", ".join(f"{k} {v}" for k, v in sorted(ours.items()))
        raise SnapshotError(
            f"{path} was saved in snapshot format {header.format} ({saved}); this Heal-Ops reads format "
            f"{FORMAT_VERSION} ({now}), and no converter exists between them"
        )


def read_snapshot(directory: Path) -> Snapshot | None:
    """The current snapshot in ``directory``, checked whole; None when there is none.

    Raises SnapshotError, naming what is wrong and the way forward, for a snapshot that is not
    ours, damaged, truncated, fails its checksum or comes from an incompatible version.
    """
    path = directory / SNAPSHOT_FILE
    if not path.exists():
        return None
    try:
        header, offset = read_header(path)
        check_compatible(path, header)
        with path.open("rb") as src:
            src.seek(offset)
            payload = src.read()
        if len(payload) != header.payload_size:
            raise SnapshotError(
                f"{path} is incomplete or damaged: its payload is {len(payload)} bytes, its header says "
                f"{header.payload_size}"
            )
        if hashlib.sha256(payload).hexdigest() != header.payload_sha256:
            raise SnapshotError(f"{path} is damaged: its payload does not match its sha256 checksum")
        raw = zlib.decompress(payload)
    except SnapshotError as exc:
        raise SnapshotError(f"{exc}. It was not loaded: {way_forward(directory)}") from None
    except (OSError, zlib.error) as exc:
        raise SnapshotError(f"{path} could not be read ({exc}). It was not loaded: {way_forward(directory)}") from None
    return Snapshot(path, header, raw)


BLOB_DIR = "blobs"


class BlobStore:
    """Large values (a function's zip, as bytes and as base64 text) kept once each, named by their sha256.

    A snapshot refers to them by name, so an unchanged zip is not written, compressed or read again
    with every snapshot. Each blob is written like a snapshot (temporary file, fsync, rename) and
    checked against its name when read.
    """

    def __init__(self, directory: Path, known: dict[int, tuple[object, str]] | None = None) -> None:
        self.directory = directory / BLOB_DIR
        self.used: set[str] = set()
        # id(value) -> (value, name) from earlier snapshots of this process, so unchanged values are not hashed again.
        self.known: dict[int, tuple[object, str]] = known if known is not None else {}

    def has(self, name: str) -> bool:
        return (self.directory / name).exists()

    def put(self, data: bytes) -> str:
        name = hashlib.sha256(data).hexdigest()
        self.used.add(name)
        path = self.directory / name
        if not path.exists():
            _private_dir(self.directory)
            temporary = path.with_suffix(".tmp")
            temporary.unlink(missing_ok=True)
            with _open_private(temporary) as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
            _fsync_dir(self.directory)
        return name

    def get(self, name: str) -> bytes:
        path = self.directory / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SnapshotError(f"the snapshot refers to {path}, which cannot be read ({exc})") from None
        if hashlib.sha256(data).hexdigest() != name:
            raise SnapshotError(f"{path} is damaged: its content does not match its sha256 name")
        return data

    def keep_only(self, names: set[str]) -> int:
        """Delete the blobs no kept snapshot refers to; returns how many."""
        removed = 0
        for path in self.directory.glob("*") if self.directory.exists() else ():
            if path.name not in names:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def blobs_of(path: Path) -> set[str]:
    """The blobs the snapshot at ``path`` refers to (none if it cannot be read)."""
    try:
        header, _ = read_header(path)
    except (OSError, SnapshotError):
        return set()
    return set(header.blobs)
