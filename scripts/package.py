"""`mlops-kit package`: build the trigger function's code package, the one step that runs pip.

Synth never builds it: stacks read no files and start no processes. This module is the entry layer's
side of the package: it builds the zip, records what it was built from, and, before every synth,
checks the record and hands the stacks the zip's path and content hash (`synth_context`) through
the app context (stacks/function_package.py reads it and makes the Terraform asset).

The artifact (gitignored `build/`):

    build/function-package/<content hash>.zip   the package (the file name is the asset's name in cdktf.out)
    build/function-package/manifest.json        {source, source_hash, package, sha256, recipe}

`--out DIR` (or MLOPS_KIT_PACKAGE_DIR, read here and nowhere else) puts both elsewhere; synth reads
the same variable. The content hash covers the function folder (minus `.funcignore`d files) and the
build recipe: synth recomputes it and refuses a package built from other source (stale) in one line.

Layout (Azure Functions Python docs, "deployment without remote build"): the function folder at the
zip root (`function_app.py`, `host.json`, ...) and every dependency installed for the Linux workers
under `.python_packages/lib/site-packages`, resolved with

    pip install --target <staging>/.python_packages/lib/site-packages -r requirements.txt \
        --platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp

so a developer on macOS or Windows builds the same package as a Linux agent, and nothing is built on
the function app (Flex Consumption runs the package as it is). The zip is deterministic (sorted
entries, fixed timestamps and modes, no byte code).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from scripts.entry import EXIT_TOOL_FAILURE, error, user_errors
from stacks.function_package import PackagingError

REPO = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO / "functions" / "pipeline_trigger"
DEFAULT_DIR = REPO / "build" / "function-package"
PACKAGE_DIR_VAR = "MLOPS_KIT_PACKAGE_DIR"
MANIFEST = "manifest.json"
FIX = "Fix: run mlops-kit package, then synth again"
SITE_PACKAGES = ".python_packages/lib/site-packages"
PYTHON_VERSION = "3.11"
PIP_TARGET_ARGS = tuple(
    f"--platform manylinux2014_x86_64 --only-binary=:all: --python-version {PYTHON_VERSION} --implementation cp".split()
)
PIP_OPTIONS = (
    "--no-compile",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "--retries",
    "2",
    "--timeout",
    "20",
)
# Part of the content hash: change it when the way the package is built changes.
RECIPE = "mlops-kit function package v1: " + " ".join(PIP_TARGET_ARGS)
# Never packaged, whatever .funcignore says: build output, local secrets, caches.
ALWAYS_IGNORED = ("__pycache__/", "*.pyc", ".python_packages/", ".venv/", "local.settings.json", ".funcignore")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
HASH_NAME = re.compile(r"[0-9a-f]{20}\.zip")
KEEP_OLD_S = 3600  # an earlier build stays this long after a new one (see build_package)


class PipFailed(Exception):
    """pip could not install the function's dependencies (a tool failure: exit 3), as one line."""


# ------------------------------------------------------------------ what goes into the package
def ignore_patterns(source: Path) -> list[str]:
    """`.funcignore` patterns (gitignore style: `name`, `dir/`, `*.glob`, `/anchored`), plus the built-in ones."""
    patterns = list(ALWAYS_IGNORED)
    funcignore = source / ".funcignore"
    if funcignore.exists():
        for raw in funcignore.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                raise PackagingError(
                    f"{funcignore}: negated pattern {line!r} is not supported by mlops-kit's packager. "
                    "Fix: list what to exclude instead"
                )
            patterns.append(line)
    return patterns


def _ignored(rel: str, is_dir: bool, patterns: Iterable[str]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pat = pattern.strip("/")
        if pattern.startswith("/") or "/" in pat:  # anchored at the function folder
            if fnmatch.fnmatchcase(rel, pat) and (is_dir or not dir_only):
                return True
            continue
        if fnmatch.fnmatchcase(parts[-1], pat) and (is_dir or not dir_only):
            return True
    return False


def included_files(source: Path) -> list[str]:
    """Relative POSIX paths of the files that go into the package, sorted."""
    patterns = ignore_patterns(source)
    found: list[str] = []
    for root, dirs, files in os.walk(source):
        base = Path(root).relative_to(source).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = sorted(d for d in dirs if not _ignored(prefix + d, True, patterns))
        found += [prefix + f for f in files if not _ignored(prefix + f, False, patterns)]
    return sorted(found)


def content_hash(source: Path, files: list[str] | None = None) -> str:
    """The package's identity: the recipe and every included file (names the zip, the asset and the blob)."""
    digest = hashlib.sha256(RECIPE.encode())
    for rel in included_files(source) if files is None else files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256((source / rel).read_bytes()).digest())
    return digest.hexdigest()[:20]


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _shown(path: Path) -> str:
    """`path` relative to the checkout when it is inside it (error lines stay short)."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def package_dir(override: Path | None = None) -> Path:
    """`--out`, else MLOPS_KIT_PACKAGE_DIR, else build/function-package in the checkout."""
    return override or Path(os.environ.get(PACKAGE_DIR_VAR) or DEFAULT_DIR)


# ------------------------------------------------------------------ building
def _pip_install(requirements: Path, target: Path) -> None:
    target_args = ("--target", str(target), "-r", str(requirements), *PIP_TARGET_ARGS, *PIP_OPTIONS)
    cmd = [sys.executable, "-m", "pip", "install", *target_args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [x.strip() for x in (proc.stderr or proc.stdout).splitlines() if x.strip()]
        reason = next((x for x in reversed(lines) if x.startswith("ERROR")), lines[-1] if lines else "no output")
        raise PipFailed(
            f"{_shown(requirements)}: pip could not install the function's dependencies for Linux/Python "
            f"{PYTHON_VERSION} ({reason}). Fix: make PyPI (or PIP_INDEX_URL) reachable, or pin versions that "
            "have manylinux wheels"
        )


def write_zip(staging: Path, target: Path) -> None:
    """A reproducible zip of `staging`: sorted entries, fixed timestamps, fixed modes."""
    entries = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for rel in entries:
            info = zipfile.ZipInfo(rel, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the modes below apply
            mode = 0o755 if os.access(staging / rel, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, (staging / rel).read_bytes())


@dataclass(frozen=True)
class Built:
    zip: Path
    content_hash: str
    rebuilt: bool  # False: the recorded package already matched the source


def _replace(data: bytes | Path, target: Path) -> None:
    """Write `target` atomically (a concurrent synth sees the old file or the new one, never half of it)."""
    partial = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    if isinstance(data, Path):
        shutil.copyfile(data, partial)
    else:
        partial.write_bytes(data)
    os.replace(partial, target)


def build_package(
    source: Path = FUNCTION_DIR,
    out: Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Built | None:
    """Build the package of `source` into `out` (None: `package_dir()`); None when there is no function."""
    if not (source / "function_app.py").exists():
        return None
    out = package_dir(out)
    if out.exists() and not out.is_dir():
        raise PackagingError(f"{out}: --out: is a file, not a folder. Fix: pass a folder for the package")
    files = included_files(source)
    digest = content_hash(source, files)
    target = out / f"{digest}.zip"
    if not force and _check(source, out, digest) is None:
        return Built(target, digest, rebuilt=False)
    progress(f"packaging {_shown(source)} ({len(files)} files, pip install for Linux/Python {PYTHON_VERSION})")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="function-package-") as tmp:
        staging = Path(tmp) / "staging"
        for rel in files:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, staging / rel)
        requirements = staging / "requirements.txt"
        if requirements.exists():
            site_packages = staging / SITE_PACKAGES
            _pip_install(requirements, site_packages)
            # Console scripts carry this machine's interpreter path; the function never runs them.
            shutil.rmtree(site_packages / "bin", ignore_errors=True)
        write_zip(staging, Path(tmp) / "package.zip")
        _replace(Path(tmp) / "package.zip", target)
    manifest = {
        "source": _shown(source),
        "source_hash": digest,
        "package": target.name,
        "sha256": _sha256(target),
        "recipe": RECIPE,
    }
    _replace((json.dumps(manifest, indent=2) + "\n").encode(), out / MANIFEST)  # last: the record of a whole zip
    # Earlier builds: synth uses only the recorded one, but a synth that read the old record may still
    # be copying its zip (a test session, a second terminal), so they go once they are an hour old.
    for old in out.glob("*.zip"):
        if old != target and HASH_NAME.fullmatch(old.name) and time.time() - old.stat().st_mtime > KEEP_OLD_S:
            old.unlink(missing_ok=True)
    return Built(target, digest, rebuilt=True)


# ------------------------------------------------------------------ what synth checks
def _check(source: Path, out: Path, digest: str) -> str | None:
    """None when `out` holds the package of `source` as it is now; else the one line saying why not."""
    record = out / MANIFEST
    try:
        manifest = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{_shown(out)}: no function package ({_shown(source)} was never packaged here). {FIX}"
    except (OSError, ValueError) as e:
        return f"{_shown(record)}: unreadable ({e}). {FIX}"
    recorded = manifest.get("source_hash") if isinstance(manifest, dict) else None
    if recorded != digest:
        return (
            f"{_shown(out)}: the function package is stale: {_shown(source)} changed since it was packaged "
            f"(packaged {recorded}, source now {digest}). {FIX}"
        )
    package = out / f"{digest}.zip"
    if not package.is_file() or _sha256(package) != manifest.get("sha256"):
        return f"{_shown(package)}: missing, or not the zip {MANIFEST} records (sha256). {FIX}"
    return None


def synth_context(source: Path = FUNCTION_DIR, out: Path | None = None) -> dict[str, str]:
    """The `PACKAGE_CONTEXT` value for the app: the zip's path and hash, or the line saying why there is none.

    Never raises for a missing or stale package: only the stacks that deploy the function need it, so
    a synth of `platform-*` works before the first `mlops-kit package` (the others fail with the line).
    """
    if not (source / "function_app.py").exists():
        print(
            f"mlops-kit: {_shown(source)} has no function_app.py; the function app is created without code",
            file=sys.stderr,
        )
        return {"zip": "", "hash": ""}
    out = package_dir(out)
    digest = content_hash(source)
    problem = _check(source, out, digest)
    if problem is not None:
        return {"problem": problem}
    return {"zip": str((out / f"{digest}.zip").absolute()), "hash": digest}


def require_package(source: Path = FUNCTION_DIR, out: Path | None = None) -> dict[str, str]:
    """`synth_context`, or PackagingError (one line, exit 2) when the package is missing or stale."""
    context = synth_context(source, out)
    if "problem" in context:
        raise PackagingError(context["problem"])
    return context


# ------------------------------------------------------------------ the command
def package_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=f"Folder for the zip and {MANIFEST} (default: {PACKAGE_DIR_VAR}, else build/function-package)",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the package matches the source")] = False,
) -> None:
    """Build the trigger function's code package (pip, for Linux); run it before synth, and after changing the function."""

    def say(msg: str) -> None:
        print(f"mlops-kit: {msg}", file=sys.stderr, flush=True)

    with user_errors():
        try:
            built = build_package(out=out, force=force, progress=say)
        except PipFailed as e:
            error(str(e))
            raise typer.Exit(EXIT_TOOL_FAILURE) from None
    if built is None:
        print(f"nothing to package: {_shown(FUNCTION_DIR)} has no function_app.py (the function app gets no code)")
        return
    state = "built" if built.rebuilt else "up to date"
    size = built.zip.stat().st_size / 1e6
    print(f"ok {state}: {_shown(built.zip)} ({size:.1f} MB, content hash {built.content_hash})")
