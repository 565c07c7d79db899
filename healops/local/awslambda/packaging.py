"""Where a worker's code and runtime libraries live on disk."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import shutil
import uuid
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

# What the AWS Python runtime itself provides to a handler; anything else the zip must vendor.
RUNTIME_PROVIDED_MODULES: tuple[str, ...] = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "six",
)


def code_dir_name(code_sha256: str) -> str:
    """A path-safe name for moto's CodeSha256 (base64, so it may hold ``/`` and ``+``)."""
    return code_sha256.replace("/", "_").replace("+", "-").rstrip("=") or "no-code"


def ensure_code_dir(root: Path, function_name: str, code_sha256: str, code_bytes: bytes) -> Path:
    """The zip unpacked under ``root/<function>/<sha>/``, unpacked once per code version.

    Unpacks into a temporary folder and renames it, so a concurrent spawn never sees half a tree.
    """
    target = root / function_name / code_dir_name(code_sha256)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        if code_bytes:
            with zipfile.ZipFile(io.BytesIO(code_bytes)) as archive:
                archive.extractall(staging)
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def ensure_runtime_dir(root: Path) -> Path:
    """A folder of symlinks to the runtime-provided libraries in this environment."""
    target = root / "_runtime"
    target.mkdir(parents=True, exist_ok=True)
    for module in RUNTIME_PROVIDED_MODULES:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            logger.warning("runtime library %s is not installed; handlers importing it will fail", module)
            continue
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        link = target / source.name
        if link.is_symlink() and os.readlink(link) == str(source):
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        with contextlib.suppress(FileExistsError):  # another cloud in this process made it meanwhile
            link.symlink_to(source)
    return target
