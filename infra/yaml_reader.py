"""Read one config file safely: bounded, regular files only, strict YAML, one-line errors.

Every failure raises `ReadError(where, problem, fix)`; `infra.config` turns it into the usual
`<file>: <where>: <problem>. Fix: <fix>` line. What is refused, and why:
- not a regular file (a directory, FIFO, device, socket): opened with O_NONBLOCK and checked with
  fstat, so a FIFO named `x.yaml` cannot block `validate`; a symlink must stay inside `teams/`;
- more than MAX_BYTES (a 50 MB comment would take seconds to scan; the example is 2 KB);
- bytes that are not UTF-8 (a UTF-16 file, latin-1, a stray 0xff): the line of the first bad byte;
- YAML nested deeper than MAX_DEPTH (PyYAML's composer recurses: 1,000 levels is a RecursionError),
  or whose aliases expand to more than MAX_NODES nodes ("billion laughs");
- a key given twice in one mapping (PyYAML keeps the last one silently).
Pure Python, no cdktf.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.events import Event
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000


class ReadError(Exception):
    def __init__(self, where: str, problem: str, fix: str):
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}. Fix: {fix}")


class _Limits(yaml.YAMLError):
    def __init__(self, problem: str, mark: Any):
        self.problem, self.problem_mark = problem, mark


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with a nesting limit, an expanded-size limit and duplicate keys rejected."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                peek: Callable[[], Event] = self.peek_event  # types-PyYAML leaves it unannotated
                raise _Limits(f"nested more than {MAX_DEPTH} levels deep", peek().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                raise _Limits("a mapping key is itself a list or mapping", key_node.start_mark) from None
            if first is not key_node:
                raise _Limits(
                    f"key {str(key)[:60]!r} appears twice (lines {first.start_mark.line + 1} and "
                    f"{key_node.start_mark.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Nodes the document has once aliases are expanded (an alias counts its whole target)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = MAX_NODES + 1  # a cycle (recursive alias) counts as too big
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(n, memo) for n in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[id(node)] = min(size, MAX_NODES + 1)
    return memo[id(node)]


def read_bytes(path: Path, root: Path | None) -> bytes:
    """The file's bytes; refuses non-regular files, symlinks leaving `root`, and files over MAX_BYTES."""
    try:
        if path.is_symlink() and root is not None:
            target = path.resolve(strict=True)
            if not target.is_relative_to(root.resolve()):
                raise ReadError(
                    "(file)",
                    f"is a symlink to {str(target)[:80]}, outside {root}",
                    "copy the file into the folder instead of linking to it",
                )
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise ReadError("(file)", "is a symlink whose target does not exist", "fix or remove the link") from None
        raise ReadError("(file)", "file not found", "create it (see docs/configuration.md)") from None
    except RuntimeError:  # Path.resolve on a symlink loop (Python < 3.13)
        raise ReadError("(file)", "is a symlink loop", "remove the link") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ReadError("(file)", "is a symlink loop", "remove the link") from None
        if e.errno == errno.EISDIR:
            raise ReadError("(file)", "is a directory, not a file", "remove or rename it") from None
        raise ReadError("(file)", f"cannot be read ({e.strerror})", "check the file's permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, device or socket)"
            raise ReadError("(file)", f"is {kind}", "remove or rename it: only regular .yaml files are read")
        if info.st_size > MAX_BYTES:
            raise ReadError(
                "(file)",
                f"is {info.st_size:,} bytes, over the {MAX_BYTES // 1024} KiB limit",
                "a team file is a few KB: remove what does not belong there",
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ReadError("(file)", f"cannot be read ({e.strerror})", "check the file and its permissions") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ReadError("(file)", f"is over the {MAX_BYTES // 1024} KiB limit", "keep the file small")
    return data


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError("(file)", "is UTF-16 (it starts with a byte-order mark)", "save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ReadError(
            f"line {line}", f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})", "save the file as UTF-8"
        ) from None


def parse(text: str) -> Any:
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise _Limits(
                f"has more than {MAX_NODES:,} values once aliases are expanded (a team file has a few hundred)",
                node.start_mark,
            )
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        limit = isinstance(e, _Limits)
        raise ReadError(
            where,
            problem[:200] if limit else f"not valid YAML ({problem[:200]})",
            "simplify the YAML there (fewer aliases, keys or nesting)" if limit else "correct the YAML syntax there",
        ) from None
    except RecursionError:
        raise ReadError("(top)", "nested too deeply", "simplify the YAML") from None
    finally:
        loader.dispose()


def read_yaml(path: Path, root: Path | None = None) -> Any:
    """The parsed document of `path` (a file inside `root`, when given); raises ReadError."""
    return parse(decode(read_bytes(path, root)))
