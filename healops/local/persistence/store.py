"""``StatePersistence``: the embedded cloud's state restored at start, saved periodically and at stop."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from healops.local.persistence import capture
from healops.local.persistence.format import BlobStore, read_snapshot, write_snapshot

logger = logging.getLogger(__name__)

DEFAULT_SNAPSHOT_INTERVAL_S = 30.0


@dataclass(frozen=True)
class SnapshotReport:
    """One snapshot taken or loaded: where, how big, and how long each part took."""

    path: Path
    size_bytes: int
    pickle_s: float
    write_s: float
    created_at: float

    @property
    def total_s(self) -> float:
        return self.pickle_s + self.write_s


class StatePersistence:
    """Snapshots of moto's backends (and the extensions' state on them) in ``directory``.

    ``interval``: real seconds between periodic snapshots (None or 0: only at stop). A crash loses
    at most the last interval. Loading checks the whole snapshot first (see ``format``): a corrupt,
    half-written or incompatible one raises ``SnapshotError`` and nothing is loaded.
    """

    def __init__(self, directory: Path, interval: float | None = DEFAULT_SNAPSHOT_INTERVAL_S) -> None:
        if interval is not None and interval < 0:
            raise ValueError(f"the snapshot interval must be 0 (only at stop) or positive seconds, got {interval!r}")
        self.directory = directory
        self.interval = interval or None
        self.restored: capture.Capture | None = None
        self.last: SnapshotReport | None = None
        self._save_lock = threading.Lock()
        self._known_blobs: dict[int, tuple[object, str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> SnapshotReport | None:
        """Load the current snapshot into moto's backends, before the server takes requests."""
        started = time.monotonic()
        snapshot = read_snapshot(self.directory)
        if snapshot is None:
            return None
        read_s = time.monotonic() - started
        self.restored = capture.restore(snapshot.payload, BlobStore(self.directory))
        report = SnapshotReport(
            snapshot.path, snapshot.size, time.monotonic() - started - read_s, read_s, snapshot.header.created_at
        )
        logger.info(
            "restored the state saved at %s from %s (%d bytes) in %.2f s",
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.created_at)),
            report.path,
            report.size_bytes,
            report.total_s,
        )
        return report

    def resume(self) -> int:
        """Once the cloud runs: start again the executions that were running when the state was saved."""
        if self.restored is None:
            return 0
        resumed = capture.resume_executions(self.restored)
        if resumed:
            logger.info("restarted %d Step Functions execution(s) that were running when the state was saved", resumed)
        return resumed

    def save(self) -> SnapshotReport:
        """Take a snapshot now (one at a time); the previous one is kept as ``snapshot.prev.bin``."""
        with self._save_lock:
            started = time.monotonic()
            created_at = time.time()
            taken = capture.capture()
            blobs = BlobStore(self.directory, self._known_blobs)
            raw = capture.dumps(taken, blobs)
            # Forget values no longer in the state (a function's old zip), so they can be freed.
            for key in [k for k, (_, name) in self._known_blobs.items() if name not in blobs.used]:
                del self._known_blobs[key]
            pickled = time.monotonic()
            path = write_snapshot(self.directory, raw, created_at, taken.contents(), blobs.used)
            self.last = SnapshotReport(
                path, path.stat().st_size, pickled - started, time.monotonic() - pickled, created_at
            )
            return self.last

    def start(self) -> None:
        if self.interval is None:
            return
        self._thread = threading.Thread(target=self._run, name="state-snapshots", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            try:
                report = self.save()
                logger.debug("state saved to %s (%d bytes, %.2f s)", report.path, report.size_bytes, report.total_s)
            except Exception:
                logger.exception("saving the state to %s failed; the previous snapshot is kept", self.directory)

    def stop(self) -> None:
        """End the periodic snapshots (the owner takes the final one once nothing else runs)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
            self._thread = None
