"""What a snapshot holds, and how it is taken from moto's backends and put back.

moto keeps every service's state in module-level ``BackendDict`` objects (account -> region ->
backend). A snapshot pickles, for each ``BackendDict`` in use, its accounts and regions; the
project's extensions keep their state on those backends (the metric store, alarm history, GSI
indexes), so it travels with them. Restoring fills the same module-level objects in place, so
every reference moto and the extensions hold stays valid.

What cannot be pickled is replaced on the way out: locks become new locks, threads are dropped,
and a Step Functions execution keeps its event history instead of its live interpreter.
"""

from __future__ import annotations

import copy
import importlib
import io
import logging
import pickle
import sys
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from healops.local.persistence.format import BlobStore, SnapshotError

logger = logging.getLogger(__name__)

# Values this big (a function's zip) go to the blob store instead of the payload.
BLOB_MIN_BYTES = 256 * 1024
_LOCK_TYPES: dict[type, Any] = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


class SavedExecutionWorker:
    """Stands in for a finished (or interrupted) execution's worker: its history, nothing live."""

    def __init__(self, history: list[Any]) -> None:
        self.history = history
        self.env = self

    @property
    def event_manager(self) -> SavedExecutionWorker:
        return self

    def get_event_history(self) -> list[Any]:
        return list(self.history)

    def stop(self, **_kwargs: Any) -> None:
        """Nothing runs: a saved execution is restarted by :func:`resume_executions`, never stopped here."""


def _execution_types() -> tuple[type, ...]:
    # Only when Step Functions' interpreter is loaded (importing it costs seconds): no execution otherwise.
    module = sys.modules.get("moto.stepfunctions.parser.backend.execution")
    return (module.Execution,) if module is not None else ()


def _saved_execution(execution: Any) -> tuple[Any, ...]:
    state = dict(execution.__dict__)
    worker = state.get("exec_worker")
    history: list[Any] = []
    if isinstance(worker, SavedExecutionWorker):
        history = worker.get_event_history()
    elif worker is not None and getattr(worker, "env", None) is not None:
        history = worker.env.event_manager.get_event_history()
    state["exec_worker"] = SavedExecutionWorker(history)
    return (object.__new__, (type(execution),), state)


class FactoryFromExample:
    """A picklable stand-in for a ``defaultdict`` factory written as a lambda (moto has a few):
    it makes copies of what the lambda made. Used only for factories of plain values."""

    def __init__(self, example: Any) -> None:
        self.example = example

    def __call__(self) -> Any:
        return copy.deepcopy(self.example)


def _new_defaultdict(cls: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    mapping = cls.__new__(cls)
    mapping.default_factory = factory
    return mapping


def _saved_defaultdict(mapping: defaultdict[Any, Any]) -> tuple[Any, ...]:
    """A defaultdict or a subclass (whose ``__init__`` may take other arguments: moto's ParameterDict),
    rebuilt without calling ``__init__``; a lambda factory travels as :class:`FactoryFromExample`."""
    factory = mapping.default_factory
    name = getattr(factory, "__qualname__", "")
    if factory is not None and ("<lambda>" in name or "<locals>" in name):
        factory = FactoryFromExample(factory())
    state = getattr(mapping, "__dict__", None) or None
    return (_new_defaultdict, (type(mapping), factory), state, None, iter(dict.items(mapping)))


def _weak_values(entries: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(entries)


def _private_key_types() -> tuple[type, ...]:
    # cryptography's key objects (moto's KMS keeps one per asymmetric or signing key) are Rust objects that
    # cannot be pickled: they travel as PKCS#8 DER and are loaded back.
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

    return (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        dsa.DSAPrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
        x25519.X25519PrivateKey,
        x448.X448PrivateKey,
    )


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)


def _saved_private_key(key: Any) -> tuple[Any, ...]:
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (_load_private_key, (der,))


class StatePickler(pickle.Pickler):
    """A pickler that leaves live machinery (locks, threads, interpreters) behind."""

    def __init__(self, file: io.BytesIO, blobs: BlobStore | None = None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._executions = _execution_types()
        self._private_keys = _private_key_types()
        self._blobs = blobs

    def persistent_id(self, obj: Any) -> Any:
        # A function's zip (bytes, and base64 text) is most of the state by size: kept apart, once.
        if self._blobs is None:
            return None
        kind = type(obj)
        if kind not in (bytes, str) or len(obj) < BLOB_MIN_BYTES:
            return None
        known = self._blobs.known.get(id(obj))
        if known is not None and known[0] is obj and self._blobs.has(known[1]):
            # The same immutable value as last time (held here, so its id is not reused): no hashing again.
            self._blobs.used.add(known[1])
            return ("bytes" if kind is bytes else "str", known[1])
        name = self._blobs.put(obj if kind is bytes else obj.encode())
        self._blobs.known[id(obj)] = (obj, name)
        return ("bytes" if kind is bytes else "str", name)

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _LOCK_TYPES:
            return (_LOCK_TYPES[kind], ())
        if isinstance(obj, threading.Thread):
            return (type(None), ())
        if self._executions and isinstance(obj, self._executions):
            return _saved_execution(obj)
        if isinstance(obj, defaultdict):
            return _saved_defaultdict(obj)
        if isinstance(obj, self._private_keys):
            return _saved_private_key(obj)
        if kind is weakref.WeakValueDictionary:
            # moto's Lambda backend indexes functions by ARN weakly; the functions themselves are saved.
            return (_weak_values, (dict(obj.items()),))
        return NotImplemented


@dataclass
class Capture:
    """The state of every backend in use: ``(module, attribute) -> {account: {region: backend}}``."""

    backends: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)

    def contents(self) -> dict[str, int]:
        """Regional backends per service, for the snapshot's header."""
        return {
            f"{module}.{name}": sum(len(r) for r in accounts.values())
            for (module, name), accounts in sorted(self.backends.items())
        }


def _backend_dicts() -> list[tuple[str, str, Any]]:
    """(module, attribute, BackendDict) for every BackendDict moto has put to use."""
    from moto.core.base_backend import BackendDict

    found = []
    for backend_dict in list(BackendDict._instances):
        cls = backend_dict.backend
        module = importlib.import_module(cls.__module__)
        for name, value in vars(module).items():
            if value is backend_dict:
                found.append((cls.__module__, name, backend_dict))
                break
        else:
            logger.warning("a BackendDict of %s is not a module attribute: not saved", cls.__qualname__)
    return found


def capture() -> Capture:
    taken = Capture()
    for module, name, backend_dict in _backend_dicts():
        accounts = {}
        for account_id, per_region in list(dict.items(backend_dict)):
            regions = dict(dict.items(per_region))
            if regions:
                accounts[account_id] = regions
        if accounts:
            taken.backends[(module, name)] = accounts
    return taken


class StateUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, blobs: BlobStore | None) -> None:
        super().__init__(file)
        self._blobs = blobs

    def persistent_load(self, pid: Any) -> Any:
        kind, name = pid
        if self._blobs is None:
            raise pickle.UnpicklingError(f"blob {name} referred to, but no blob store given")
        data = self._blobs.get(name)
        return data if kind == "bytes" else data.decode()


def dumps(taken: Capture, blobs: BlobStore | None = None, attempts: int = 5) -> bytes:
    """Pickle ``taken``; a dictionary changed by a request meanwhile is retried (then the error raised)."""
    for attempt in range(attempts):
        buffer = io.BytesIO()
        try:
            StatePickler(buffer, blobs).dump(taken.backends)
            return buffer.getvalue()
        except RuntimeError as exc:  # "dictionary changed size during iteration"
            if attempt == attempts - 1:
                raise
            logger.debug("state changed while it was saved (%s): again", exc)
    raise AssertionError("unreachable")


def restore(raw: bytes, blobs: BlobStore | None = None) -> Capture:
    """Put the backends pickled in ``raw`` back into moto's BackendDicts, replacing what they hold."""
    from moto.core.base_backend import BackendDict

    try:
        backends: dict[tuple[str, str], dict[str, dict[str, Any]]] = StateUnpickler(io.BytesIO(raw), blobs).load()
    except SnapshotError:
        raise
    except Exception as exc:  # a class renamed or moved since: nothing has been loaded yet
        raise SnapshotError(
            f"the snapshot could not be unpickled ({type(exc).__name__}: {exc}). It was not loaded: "
            "`healops up --fresh` starts empty and moves the state aside (nothing is deleted)"
        ) from None
    for (module, name), accounts in backends.items():
        backend_dict = getattr(importlib.import_module(module), name)
        for account_id, regions in accounts.items():
            per_region = backend_dict[account_id]  # creates the account's container, registers the BackendDict
            for region, backend in regions.items():
                dict.__setitem__(per_region, region, backend)
        if backend_dict not in BackendDict._instances:
            BackendDict._instances.append(backend_dict)
    return Capture(backends)


def resume_executions(taken: Capture) -> int:
    """Start again, from their first state with their input, the executions that were running.

    Their interpreter could not be saved; the remediation's steps are idempotent (a recorded plan is
    reused, an action is keyed on incident, attempt and action), so a re-run is a retry.
    """
    resumed = 0
    for (module, _name), accounts in taken.backends.items():
        if "stepfunctions" not in module:
            continue
        for regions in accounts.values():
            for backend in regions.values():
                for state_machine in list(getattr(backend, "state_machines", [])):
                    for execution in list(getattr(state_machine, "executions", [])):
                        if getattr(execution, "status", None) == "RUNNING":
                            execution.exec_worker = None
                            execution.start()
                            resumed += 1
    return resumed
