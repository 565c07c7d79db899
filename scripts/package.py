"""Build one reproducible Lambda zip per function: ``python scripts/package.py [--out build] [--function NAME]``.

Each ``build/<function>.zip`` holds ``functions/<function>/app.py`` at its root, the modules of
the ``healops`` package it imports (directly or not) and, of the *runtime* dependencies, those
this function's code imports (with what they need), copied from the distributions installed in
this virtual environment (the files their RECORD lists), so building needs no network. Only the
planner reasons with an LLM; it and the remediator (whose engine imports the LLM package's types) carry the
LLM SDKs, the other zips none. boto3 and what it pulls in are left out: the
Lambda Python runtime provides them.

Reproducible: entries sorted, one fixed timestamp (1980-01-01) and mode, no ``__pycache__``. A
digest of every input (names and bytes) is stored as the zip's comment; when it matches the
existing zip nothing is rewritten, so the zip and Terraform's ``source_code_hash`` change only
when the code does. A freshly built zip is import-checked: unpacked into a temporary folder and
``import app`` run by a Python that sees only that folder, the standard library and the
runtime-provided packages, which proves the zip carries everything else it needs.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata as metadata
import io
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"

# What the handlers import; their dependency closure is vendored.
RUNTIME_REQUIREMENTS: tuple[str, ...] = ("aws-lambda-powertools", "pydantic", "google-genai", "openai", "jsonschema")
# Provided by the Lambda Python runtime: never vendored.
PROVIDED_BY_RUNTIME: frozenset[str] = frozenset(
    canonicalize_name(name)
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
)
# Files in a distribution's RECORD that describe this one installation, not the package.
INSTALL_ONLY_FILES: frozenset[str] = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
# Bump when the layout of the zip changes, so every zip is rebuilt once.
FORMAT_VERSION = b"healops-package-2"


class PackagingError(RuntimeError):
    """A function could not be packaged, or its zip does not import."""


@dataclass(frozen=True)
class BuildResult:
    function: str
    path: Path
    size: int
    sha256: str
    rebuilt: bool


def function_names() -> list[str]:
    """Every folder under functions/ with an app.py."""
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def dependency_closure(
    requirements: Iterable[str], excluded: frozenset[str] = PROVIDED_BY_RUNTIME
) -> list[metadata.Distribution]:
    """The installed distributions ``requirements`` need (no extras), minus ``excluded``."""
    seen: dict[str, metadata.Distribution] = {}
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or name in excluded:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError as exc:
            raise PackagingError(
                f"{requirement.name} is needed inside Lambda but is not installed in {sys.prefix}"
            ) from exc
        seen[name] = dist
        for raw in dist.requires or []:
            dep = Requirement(raw)
            if dep.marker is None or dep.marker.evaluate({"extra": ""}):
                pending.append(dep)
    return [seen[name] for name in sorted(seen)]


def _is_bytecode(arcname: str) -> bool:
    return "__pycache__/" in arcname or arcname.endswith((".pyc", ".pyo"))


def distribution_files(dist: metadata.Distribution) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file on disk) for each importable file of ``dist``."""
    for record in dist.files or []:
        arcname = record.as_posix()
        # '../../bin/x' are console scripts outside site-packages; not importable.
        if arcname.startswith("../") or _is_bytecode(arcname):
            continue
        if ".dist-info/" in arcname and arcname.rsplit("/", 1)[-1] in INSTALL_ONLY_FILES:
            continue
        yield arcname, Path(dist.locate_file(record))


def _module_file(module: str) -> Path | None:
    """The source file of ``healops[.x.y]`` in this repository, or None if there is none."""
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every module name ``path`` (the module ``module``) imports, anywhere in its body."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names.add(source)
            # `from pkg import name` may name a submodule.
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def healops_files(handler: Path) -> dict[str, Path]:
    """The healops modules ``handler`` imports, directly or not, with their packages' __init__.py.

    Only what a handler uses is vendored, so a change elsewhere in healops (the CLI, the
    embedded cloud) neither enlarges nor redeploys the function.
    """
    files: dict[str, Path] = {}
    pending = [(handler, "app")]
    while pending:
        path, module = pending.pop()
        for name in _imported_modules(path, module):
            if name != "healops" and not name.startswith("healops."):
                continue
            parts = name.split(".")
            # The module itself and every package above it (importing a.b.c runs a and a.b).
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                source = _module_file(prefix)
                if source is None:
                    continue
                arcname = source.relative_to(REPO_ROOT).as_posix()
                if arcname not in files:
                    files[arcname] = source
                    pending.append((source, prefix))
    # Package data read through importlib.resources (healops/fleet/fleet.json) travels with its package.
    for package in {path.parent for path in files.values() if path.name == "__init__.py"}:
        for data in package.glob("*.json"):
            files.setdefault(data.relative_to(REPO_ROOT).as_posix(), data)
    return files


def imported_requirements(sources: Iterable[tuple[Path, str]], requirements: Iterable[str]) -> list[str]:
    """Those of ``requirements`` whose modules ``sources`` ((file, module name) pairs) import."""
    wanted = {canonicalize_name(Requirement(r).name): r for r in requirements}
    providers = metadata.packages_distributions()  # top-level module -> distributions
    used: set[str] = set()
    for path, module in sources:
        for name in _imported_modules(path, module):
            for dist in providers.get(name.split(".")[0], ()):
                if canonicalize_name(dist) in wanted:
                    used.add(canonicalize_name(dist))
    return [wanted[name] for name in sorted(used)]


def zip_inputs(function: str, requirements: Iterable[str] = RUNTIME_REQUIREMENTS) -> dict[str, Path]:
    """Every entry of ``function``'s zip, by name in the zip."""
    handler = FUNCTIONS_DIR / function / "app.py"
    if not handler.is_file():
        raise PackagingError(f"no handler at {handler}; functions are: {', '.join(function_names())}")
    entries: dict[str, Path] = {"app.py": handler}
    entries.update(healops_files(handler))
    sources = [(handler, "app")] + [
        (path, arcname.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
        for arcname, path in entries.items()
        if arcname.endswith(".py") and arcname != "app.py"
    ]
    for dist in dependency_closure(imported_requirements(sources, requirements)):
        entries.update(distribution_files(dist))
    return entries


def inputs_digest(entries: dict[str, Path]) -> str:
    digest = hashlib.sha256(FORMAT_VERSION)
    for arcname in sorted(entries):
        digest.update(arcname.encode() + b"\0" + hashlib.sha256(entries[arcname].read_bytes()).digest())
    return digest.hexdigest()


def render_zip(entries: dict[str, Path], comment: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE_TIME)
            info.create_system = 3  # unix, so the mode below is honoured the same everywhere
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[arcname].read_bytes(), compresslevel=6)
        archive.comment = comment.encode()
    return buffer.getvalue()


def _stored_digest(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment.decode()
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


def _runtime_provided_dir(root: Path) -> Path:
    """A folder of links to the runtime-provided packages, standing in for Lambda's own."""
    provided = root / "runtime-provided"
    provided.mkdir()
    for name in sorted(PROVIDED_BY_RUNTIME):
        dist = metadata.distribution(name)
        tops = {f.parts[0] for f in dist.files or [] if f.parts[0] != ".." and ".dist-info" not in f.parts[0]}
        for top in sorted(tops - {"__pycache__"}):
            target = Path(dist.locate_file(top))
            if target.exists() and not (provided / top).exists():
                (provided / top).symlink_to(target)
    return provided


IMPORT_CHECK = "import sys; sys.path[:0] = sys.argv[1:]; import app"


def import_check(zip_path: Path) -> None:
    """Raise PackagingError unless ``app`` imports from the zip with only runtime-provided extras."""
    with tempfile.TemporaryDirectory(prefix="healops-import-check-") as tmp:
        unpacked = Path(tmp) / "function"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(unpacked)
        provided = _runtime_provided_dir(Path(tmp))
        # -I: no environment, no user site; -S: no site-packages. Only the zip and the stand-in.
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", IMPORT_CHECK, str(unpacked), str(provided)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PackagingError(f"{zip_path.name}: `import app` fails with only the zip on the path: {last_line}")


def build(
    function: str,
    out_dir: Path,
    requirements: Iterable[str] = RUNTIME_REQUIREMENTS,
    check: bool = True,
) -> BuildResult:
    """Build ``out_dir/<function>.zip`` unless an identical one is there; import-check a new one."""
    entries = zip_inputs(function, requirements)
    digest = inputs_digest(entries)
    path = out_dir / f"{function}.zip"
    rebuilt = _stored_digest(path) != digest
    if rebuilt:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".zip.tmp")
        staging.write_bytes(render_zip(entries, digest))
        try:
            if check:
                import_check(staging)
        except PackagingError:
            staging.unlink()
            raise
        staging.replace(path)
    data = path.read_bytes()
    return BuildResult(function, path, len(data), hashlib.sha256(data).hexdigest(), rebuilt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/package.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build", help="output folder (default build/)")
    parser.add_argument(
        "--function", action="append", choices=function_names(), help="build only this function (repeatable)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the import check of rebuilt zips")
    args = parser.parse_args(argv)
    try:
        for function in args.function or function_names():
            result = build(function, args.out, check=not args.no_check)
            state = "built" if result.rebuilt else "unchanged"
            print(f"{result.function:<18} {result.size:>10,} B  sha256 {result.sha256}  {state}  {result.path}")
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
