"""Deterministic generator of malformed team and platform files for the validate fuzz test.

`cases(seed)` yields `Case(category, name, files)`: `files` maps a file name in teams/ to its bytes,
None (delete it) or a callable that creates a special file (directory, FIFO, symlink). Every case is
invalid by construction, so `mlops-kit validate` must exit 2 on each; the categories follow the
issue's report (encodings, structure, hostile values, keys, YAML 1.1 typing, special files).
Plain Python and PyYAML: no cdktf, nothing random outside the seeded generator.
"""

from __future__ import annotations

import copy
import gzip
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ORG

EXAMPLE = (ORG / "example.yaml").read_text()
PLATFORM = (ORG / "platform.yaml").read_text()
FileSpec = bytes | None | Callable[[Path], None]
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # only writes the cases: speed, not safety


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    files: dict[str, FileSpec]


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, (*path, i))
    else:
        yield path, data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return data


def _dump(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10**9).encode()


# Values no string field of the kit accepts (the free-text `instructions` is never picked).
def _hostile_strings(rng: random.Random, original: str) -> list[str]:
    return [
        original + "\n",
        original + "\x00",
        "\x00" + original,
        original[:1] + "\x1b[31m" + original[1:],
        original + "\u2028",
        "x" * rng.randint(70_000, 120_000),
        "",
        "\t" + original,
        original + "\r",
        original + "\x7f",
    ]


def _non_strings(rng: random.Random) -> list[Any]:
    return [True, False, None, rng.randint(-(10**6), 10**6), 1.5, [1, 2], {"a": 1}, {"nested": {"x": [None]}}]


STRING_FIELDS_SKIP = {"instructions"}


def _value_cases(rng: random.Random, n: int, platform: bool) -> Iterator[Case]:
    text = PLATFORM if platform else EXAMPLE
    fname = "platform.yaml" if platform else "example.yaml"
    data = yaml.safe_load(text)
    leaves = [(p, v) for p, v in _leaves(data) if not (set(map(str, p)) & STRING_FIELDS_SKIP)]
    for i in range(n):
        path, original = rng.choice(leaves)
        if isinstance(original, str):
            pool = _hostile_strings(rng, original) + [rng.choice(_non_strings(rng))]
            if path[0] == "default_tags":  # an empty tag value is valid in Azure
                pool.remove("")
            value = rng.choice(pool)
        elif isinstance(original, bool):
            value = rng.choice(["maybe", [True], {"x": 1}, "\x00"])
        else:  # an int
            value = rng.choice([-1, 10**9, "many", [original], {"v": original}, 1.5, "1\n"])
        name = f"{'.'.join(map(str, path))}={type(value).__name__}:{str(value)[:12]!r}"
        yield Case(
            f"{'platform' if platform else 'team'} values", f"{i}:{name}", {fname: _dump(_set(data, path, value))}
        )


def _encoding_cases(rng: random.Random, n: int) -> Iterator[Case]:
    raw = EXAMPLE.encode()
    makers: list[Callable[[], bytes]] = [
        lambda: os.urandom(0) + bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 400))),
        lambda: gzip.compress(raw, mtime=0),
        lambda: raw[: rng.randint(10, len(raw))] + b"\xff" + raw[rng.randint(10, len(raw)) :],
        lambda: EXAMPLE.replace("Example", "Ex\u00e4mple").encode("latin-1"),
        lambda: "\ufeff".encode("utf-16-le") + EXAMPLE.encode("utf-16-le"),
        lambda: "\ufeff".encode("utf-16-be") + EXAMPLE.encode("utf-16-be"),
        lambda: raw + "\u00e9".encode()[:1],
        lambda: raw.replace(b"team", b"te\xc3(am", 1),
    ]
    for i in range(n):
        which = rng.randrange(len(makers))
        target = "platform.yaml" if rng.random() < 0.3 else "example.yaml"
        data = makers[which]()
        if target == "platform.yaml" and which in (3,):
            data = PLATFORM.replace("owner: platform", "owner: pl\u00e4tform").encode("latin-1")
        yield Case("encodings", f"{i}:{target}:maker{which}", {target: data})


def _structure_cases(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        kind = rng.randrange(7)
        target = "platform.yaml" if rng.random() < 0.25 else "example.yaml"
        base = PLATFORM if target == "platform.yaml" else EXAMPLE
        if kind == 0:  # deep nesting, flow or block
            depth = rng.randint(33, 3000)
            text = (
                "name: " + "[" * depth + "]" * depth + "\n"
                if rng.random() < 0.5
                else "".join("  " * d + f"k{d}:\n" for d in range(min(depth, 400))) + "  " * 400 + "x: 1\n"
            )
        elif kind == 1:  # alias bomb
            width, levels = rng.randint(5, 12), rng.randint(6, 10)
            lines = [f"a0: &a0 [{','.join(['lol'] * width)}]"]
            lines += [f"a{j}: &a{j} [" + ",".join([f"*a{j - 1}"] * width) + "]" for j in range(1, levels)]
            lines.append(f"{rng.choice(['name', 'cost_center', 'tenant_id', 'vm_priority'])}: *a{levels - 1}")
            text = "\n".join(lines) + "\n"
        elif kind == 2:  # a duplicate key
            key = rng.choice([ln.split(":")[0] for ln in base.splitlines() if ln and ln[0].isalpha()])
            text = base + f"{key}: duplicate\n"
        elif kind == 3:  # too big: a huge comment or many keys
            text = base + (
                "#" * rng.randint(300_000, 600_000) + "\n"
                if rng.random() < 0.5
                else "".join(f"k{j}: {j}\n" for j in range(rng.randint(25_000, 40_000)))
            )
        elif kind == 4:  # not a mapping at the top
            text = rng.choice(["- a\n- b\n", "just a string\n", "42\n", "~\n", "[]\n", "''\n"])
        elif kind == 5:  # broken syntax
            lines = base.splitlines()
            j = rng.randrange(len(lines))
            indent = lines[j][: len(lines[j]) - len(lines[j].lstrip())]
            lines[j] = indent + rng.choice(
                [
                    "key: [unclosed",
                    "key: {a: 1",
                    "*undefined_alias: 1",
                    "key: 'unterminated",
                    "\tkey: 1",
                    "key: value: other",
                    'key: "bad \\q escape"',
                ]
            )
            text = "\n".join(lines) + "\n"
        else:  # many unknown keys (capped message count)
            text = base + "".join(f"unknown_{j}: {j}\n" for j in range(rng.randint(21, 3000)))
        yield Case("structure", f"{i}:{target}:kind{kind}", {target: text.encode()})


# Words PyYAML (YAML 1.1) reads as booleans, null or numbers when unquoted (`1e3` without a dot stays text).
YAML11 = ["no", "No", "yes", "on", "off", "true", "False", "null", "~", "0001", "0777", "1.5", "0x1F", "12:30", ".inf"]


def _yaml11_cases(rng: random.Random, n: int) -> Iterator[Case]:
    fields = ["name", "display_name", "cost_center"]
    for i in range(n):
        field, word = rng.choice(fields), rng.choice(YAML11)
        if rng.random() < 0.3:  # as a key
            text = EXAMPLE + f"{word}: value\n"
            yield Case("yaml 1.1 typing", f"{i}:key {word}", {"example.yaml": text.encode()})
            continue
        lines = [ln for ln in EXAMPLE.splitlines() if not ln.startswith(f"{field}:")]
        yield Case(
            "yaml 1.1 typing",
            f"{i}:{field}: {word}",
            {"example.yaml": ("\n".join(lines) + f"\n{field}: {word}\n").encode()},
        )


def _key_cases(rng: random.Random, n: int) -> Iterator[Case]:
    data = yaml.safe_load(EXAMPLE)
    required = ["name", "display_name", "cost_center", "groups", "environments"]
    for i in range(n):
        kind = rng.randrange(3)
        if kind == 0:
            broken = dict(data)
            del broken[rng.choice(required)]
        elif kind == 1:
            path, _v = rng.choice(list(_leaves(data)))
            broken = (
                _set(data, path[:-1] + (f"{path[-1]}_typo",), 1)
                if isinstance(path[-1], str)
                else _set(data, ("bogus",), 1)
            )
        else:
            broken = dict(data)
            broken["environments"] = {
                rng.choice(["qa", "test", "production", "Dev"]): data["environments"]["dev"],
                **data["environments"],
            }
        yield Case("keys", f"{i}:kind{kind}", {"example.yaml": _dump(broken)})


def _rule_cases() -> Iterator[Case]:
    """Valid YAML that breaks an Azure or kit rule found only at deploy time before."""
    subs = [
        ("filesystems: [raw, curated]", "filesystems: [raw, curated, eventgrid-deadletter]"),
        ('prefix: "landing/"', 'prefix: ""'),
        ('prefix: "landing/"', 'prefix: "../"'),
        ("  dev:\n", "  dev:\n    location: mars\n"),
        ("name: example", "name: platform"),
        ("name: example", 'name: "no"'),
        ("vm_size: Standard_DS4_v2", "vm_size: DS4_v2"),
    ]
    for i, (old, new) in enumerate(subs):
        yield Case("azure rules", f"team:{i}", {"example.yaml": EXAMPLE.replace(old, new, 1).encode()})
    platform_subs = [
        ("https://dev.azure.com/contoso-ml", "https://evil.example#.visualstudio.com"),
        ("https://dev.azure.com/contoso-ml", "https://user@dev.azure.com/contoso-ml"),
        ("https://dev.azure.com/contoso-ml", "https://dev.azure.com/contoso-ml?x=1"),
        ("https://dev.azure.com/contoso-ml", "http://contoso-ml.visualstudio.com"),
        ("default_location: westeurope", "default_location: mars"),
        ("  owner: platform-engineering", "  owner: " + "v" * 300),
        ("  owner: platform-engineering", "".join(f"  t{j}: v\n" for j in range(50)).rstrip("\n")),
    ]
    for i, (old, new) in enumerate(platform_subs):
        yield Case("azure rules", f"platform:{i}", {"platform.yaml": PLATFORM.replace(old, new, 1).encode()})


def _special_file_cases() -> Iterator[Case]:
    def mk(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        return fn

    def unlink_then(p: Path) -> None:
        if p.exists() or p.is_symlink():
            p.unlink()

    specs: dict[str, Callable[[Path], None]] = {
        "directory": lambda p: (unlink_then(p), p.mkdir()),  # type: ignore[func-returns-value]
        "fifo": lambda p: (unlink_then(p), os.mkfifo(p)),  # type: ignore[func-returns-value]
        "symlink loop": lambda p: (unlink_then(p), p.symlink_to(p)),  # type: ignore[func-returns-value]
        "symlink to /dev/zero": lambda p: (unlink_then(p), p.symlink_to("/dev/zero")),  # type: ignore[func-returns-value]
        "symlink outside": lambda p: (unlink_then(p), p.symlink_to("/etc/hostname")),  # type: ignore[func-returns-value]
        "dangling symlink": lambda p: (unlink_then(p), p.symlink_to(p.with_name("nowhere"))),  # type: ignore[func-returns-value]
        "symlink to a directory": lambda p: (unlink_then(p), p.symlink_to(p.parent)),  # type: ignore[func-returns-value]
    }
    for target in ("example.yaml", "extra.yaml", "platform.yaml"):
        for label, fn in specs.items():
            yield Case("special files", f"{target}:{label}", {target: mk(fn)})


def cases(seed: int = 1414) -> list[Case]:
    rng = random.Random(seed)
    out: list[Case] = []
    out += _encoding_cases(rng, 120)
    out += _structure_cases(rng, 160)
    out += _value_cases(rng, 500, platform=False)
    out += _value_cases(rng, 150, platform=True)
    out += _yaml11_cases(rng, 80)
    out += _key_cases(rng, 80)
    out += _rule_cases()
    out += _special_file_cases()
    return out
