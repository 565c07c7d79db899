"""The snapshot file: written atomically with the previous one kept; anything damaged or foreign is refused whole."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from healops.local.persistence.capture import StatePickler, StateUnpickler
from healops.local.persistence.format import (
    FORMAT_VERSION,
    MAGIC,
    PREVIOUS_FILE,
    SNAPSHOT_FILE,
    TEMPORARY_FILE,
    BlobStore,
    SnapshotError,
    read_snapshot,
    write_snapshot,
)


def test_a_snapshot_reads_back_what_was_written_and_keeps_the_previous(tmp_path: Path) -> None:
    write_snapshot(tmp_path, b"first" * 1000, 1.0, {"s": 1})
    write_snapshot(tmp_path, b"second" * 1000, 2.0, {"s": 2})
    snapshot = read_snapshot(tmp_path)
    assert snapshot is not None and snapshot.payload == b"second" * 1000
    assert snapshot.header.format == FORMAT_VERSION and snapshot.header.contents == {"s": 2}
    assert (tmp_path / PREVIOUS_FILE).exists() and not (tmp_path / TEMPORARY_FILE).exists()


def test_no_snapshot_is_none(tmp_path: Path) -> None:
    assert read_snapshot(tmp_path) is None


def test_a_half_written_temporary_file_is_never_read(tmp_path: Path) -> None:
    write_snapshot(tmp_path, b"complete", 1.0, {})
    (tmp_path / TEMPORARY_FILE).write_bytes(MAGIC + b'{"format": 1')  # a crash mid-write
    snapshot = read_snapshot(tmp_path)
    assert snapshot is not None and snapshot.payload == b"complete"


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped":
        data[-5] ^= 0xFF
    elif how == "truncated":
        del data[-10:]
    elif how == "foreign":
        data[:5] = b"PK\x03\x04\x00"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("flipped", "damaged: its payload does not match its sha256 checksum"),
        ("truncated", "incomplete or damaged: its payload is"),
        ("foreign", "is not a Heal-Ops state snapshot"),
    ],
)
def test_a_damaged_snapshot_is_refused_with_the_way_forward(tmp_path: Path, how: str, message: str) -> None:
    write_snapshot(tmp_path, b"one" * 500, 1.0, {})
    write_snapshot(tmp_path, b"two" * 500, 2.0, {})
    _damage(tmp_path / SNAPSHOT_FILE, how)
    with pytest.raises(SnapshotError) as refused:
        read_snapshot(tmp_path)
    text = str(refused.value)
    assert message in text and "It was not loaded" in text
    assert "healops up --fresh" in text and f"mv {tmp_path / PREVIOUS_FILE} {tmp_path / SNAPSHOT_FILE}" in text


@pytest.mark.parametrize("field", ["format", "versions"])
def test_a_snapshot_from_an_incompatible_version_is_refused(tmp_path: Path, field: str) -> None:
    path = write_snapshot(tmp_path, b"payload", 1.0, {})
    magic, header, payload = path.read_bytes().split(b"\n", 2)
    fields = json.loads(header)
    fields[field] = 0 if field == "format" else {"moto": "4.0.0", "python": "3.9"}
    path.write_bytes(magic + b"\n" + json.dumps(fields).encode() + b"\n" + payload)
    with pytest.raises(SnapshotError, match=r"no converter exists(.|\n)*healops up --fresh"):
        read_snapshot(tmp_path)


def test_large_values_are_kept_once_as_checked_blobs_and_dropped_when_no_snapshot_refers_to_them(
    tmp_path: Path,
) -> None:
    zipped = bytes(range(256)) * 2048  # 512 KB: a function's zip
    state = {"code": zipped, "base64": "A" * 400_000, "small": b"x"}
    blobs = BlobStore(tmp_path)
    buffer = io.BytesIO()
    StatePickler(buffer, blobs).dump(state)
    assert len(buffer.getvalue()) < 1000 and len(blobs.used) == 2
    assert StateUnpickler(io.BytesIO(buffer.getvalue()), BlobStore(tmp_path)).load() == state
    write_snapshot(tmp_path, buffer.getvalue(), 1.0, {}, blobs.used)
    write_snapshot(tmp_path, b"no blobs", 2.0, {}, set())
    assert len(list((tmp_path / "blobs").iterdir())) == 2, "the previous snapshot still refers to them"
    write_snapshot(tmp_path, b"no blobs either", 3.0, {}, set())
    assert list((tmp_path / "blobs").iterdir()) == []


def test_a_damaged_blob_is_refused(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    buffer = io.BytesIO()
    StatePickler(buffer, blobs).dump({"code": b"z" * 300_000})
    (name,) = blobs.used
    (tmp_path / "blobs" / name).write_bytes(b"z" * 299_999)
    with pytest.raises(SnapshotError, match="damaged: its content does not match its sha256 name"):
        StateUnpickler(io.BytesIO(buffer.getvalue()), BlobStore(tmp_path)).load()


def test_the_snapshot_its_blobs_and_their_folders_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    # A snapshot holds the stack's secrets (SecureString parameters, KMS key material): not for other local users.
    directory = tmp_path / "state"
    blobs = BlobStore(directory)
    name = blobs.put(b"a function's zip" * 100)
    write_snapshot(directory, b"first", 1.0, {}, {name})
    write_snapshot(directory, b"second", 2.0, {}, {name})
    for path in (
        directory,
        directory / SNAPSHOT_FILE,
        directory / PREVIOUS_FILE,
        blobs.directory,
        blobs.directory / name,
    ):
        assert path.stat().st_mode & 0o077 == 0, f"{path} is open to others: {oct(path.stat().st_mode)}"
