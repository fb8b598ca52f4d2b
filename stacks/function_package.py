"""The code package of the pipeline-trigger function, built at synth time (stacks may read files).

Layout (Azure Functions Python docs, "deployment without remote build"): the function folder at
the zip root (`function_app.py`, `host.json`, ...) and every dependency installed for the Linux
workers under `.python_packages/lib/site-packages`, resolved with

    pip install --target <staging>/.python_packages/lib/site-packages -r requirements.txt \
        --platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp

so a developer on macOS or Windows builds the same package as a Linux agent, and nothing is
built on the function app (Flex Consumption runs the package as it is).

The zip is deterministic (sorted entries, fixed timestamps and modes, no byte code) and cached in
`.cache/function-package/<hash>.zip`, keyed by the folder's contents (minus `.funcignore`d files)
and this recipe: repeated synths reuse it, and an unchanged function never changes the Terraform
asset, so `cdktf diff` stays quiet.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from constructs import Construct

from infra.config import ConfigError

REPO = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO / "functions" / "pipeline_trigger"
CACHE_DIR = REPO / ".cache" / "function-package"
SITE_PACKAGES = ".python_packages/lib/site-packages"
PYTHON_VERSION = "3.11"
PIP_TARGET_ARGS = (
    "--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--python-version", PYTHON_VERSION,
    "--implementation", "cp",
)
# Part of the cache key: change it when the way the package is built changes.
RECIPE = "mlops-kit function package v1: " + " ".join(PIP_TARGET_ARGS)
# Never packaged, whatever .funcignore says: build output, local secrets, caches.
ALWAYS_IGNORED = ("__pycache__/", "*.pyc", ".python_packages/", ".venv/", "local.settings.json", ".funcignore")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_announced: set[Path] = set()


class PackagingError(ConfigError):
    """The package cannot be built; one line, reported like a config problem (no traceback)."""

    def __init__(self, line: str):
        super().__init__([line])


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


def content_hash(source: Path, files: list[str]) -> str:
    digest = hashlib.sha256(RECIPE.encode())
    for rel in files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256((source / rel).read_bytes()).digest())
    return digest.hexdigest()[:20]


def _pip_install(requirements: Path, target: Path) -> None:
    cmd = [
        sys.executable, "-m", "pip", "install", "--target", str(target), "-r", str(requirements), *PIP_TARGET_ARGS,
        "--no-compile", "--disable-pip-version-check", "--no-input", "--quiet", "--retries", "2", "--timeout", "20",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [x.strip() for x in (proc.stderr or proc.stdout).splitlines() if x.strip()]
        reason = next((x for x in reversed(lines) if x.startswith("ERROR")), lines[-1] if lines else "no output")
        raise PackagingError(
            f"{requirements}: pip could not install the function's dependencies for Linux/Python {PYTHON_VERSION} "
            f"({reason}). Fix: make PyPI (or PIP_INDEX_URL) reachable for the first synth, or pin versions that "
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


def build_package(source: Path = FUNCTION_DIR, cache_dir: Path = CACHE_DIR) -> Path:
    """The package zip for `source`: from the cache, or built (pip runs only on a cache miss)."""
    files = included_files(source)
    target = cache_dir / f"{content_hash(source, files)}.zip"
    if target.exists():
        return target
    try:
        shown = source.relative_to(REPO)
    except ValueError:
        shown = source
    print(f"mlops-kit: packaging {shown} (pip, first time only)", file=sys.stderr, flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
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
        partial = Path(tmp) / "package.zip"
        write_zip(staging, partial)
        shutil.move(partial, cache_dir / f".{target.name}.tmp")
        os.replace(cache_dir / f".{target.name}.tmp", target)  # atomic: a concurrent synth sees all or nothing
    return target


@dataclass(frozen=True)
class PackageAsset:
    """The package as the stack hands it to the construct: its Terraform path and its content hash."""

    path: str  # relative to the stack's folder in cdktf.out (a TerraformAsset)
    content_hash: str  # names the asset folder and the uploaded blob: a new package is a new deployment


def function_package_asset(scope: Construct, source: Path = FUNCTION_DIR) -> PackageAsset | None:
    """The function's package as a TerraformAsset in `scope`, or None without the function folder."""
    if not (source / "function_app.py").exists():
        if source in _announced:
            return None
        _announced.add(source)
        print(
            f"mlops-kit: {source} has no function_app.py yet; the function app is created without code",
            file=sys.stderr,
        )
        return None
    package = build_package(source)
    # The package's own content hash names the asset folder: cdktf's default hashes the absolute
    # path, which would make the synthesized JSON differ between checkouts.
    content_hash = package.stem
    asset = TerraformAsset(
        scope, "function_package", path=str(package), type=AssetType.FILE, asset_hash=content_hash.upper()
    )
    return PackageAsset(path=asset.path, content_hash=content_hash)
