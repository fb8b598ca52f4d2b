"""Generate infra/data/azure-locations.json and infra/data/azure-vm-sizes.json from public sources.

The config checks every `location` against the first list (an error: a region that does not exist is
otherwise found only at deploy time) and every `compute.vm_size` against the second (a warning: new
sizes appear every month). Sources, both public Microsoft repositories:

- regions: the `CreateStaticReference("<name>", "<display name>")` entries of Azure.Core's
  `AzureLocation.cs` (github.com/Azure/azure-sdk-for-net, sdk/core/Azure.Core/src/AzureLocation.cs);
- VM sizes: the `"Standard_...": {` keys of Azure/skewer's v2/testdata/generated_vmsize_testdata.go,
  generated from the Resource SKUs API (`virtualMachines`).

    .venv/bin/python -m scripts.gen_azure_data --locations AzureLocation.cs --locations-source URL@COMMIT \
        --vm-sizes generated_vmsize_testdata.go --vm-sizes-source URL@COMMIT

A region newer than the list goes into `extra_locations` of platform.yaml until the list is regenerated.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

from scripts.writes import write_kit_file

DATA = Path(__file__).resolve().parent.parent / "infra" / "data"


def locations(text: str) -> dict[str, str]:
    return dict(sorted(re.findall(r'CreateStaticReference\("([a-z0-9]+)", "([^"]+)"\)', text)))


def vm_sizes(text: str) -> list[str]:
    return sorted(set(re.findall(r'"(Standard_[A-Za-z0-9_]+)": \{', text)))


def _write(path: Path, source: str, key: str, values: object) -> None:
    doc = {
        "source": source,
        "generated": datetime.date.today().isoformat(),
        "generator": "scripts/gen_azure_data.py",
        key: values,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    write_kit_file(path, text)  # atomic and mode-keeping; never through a symlink
    print(f"wrote {path} ({len(values)} entries)")  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--locations", type=Path)
    p.add_argument("--locations-source", default="")
    p.add_argument("--vm-sizes", type=Path)
    p.add_argument("--vm-sizes-source", default="")
    args = p.parse_args(argv)
    if args.locations:
        found = locations(args.locations.read_text(encoding="utf-8"))
        if len(found) < 40:
            print(f"error: only {len(found)} regions found in {args.locations}", file=sys.stderr)
            return 1
        _write(DATA / "azure-locations.json", args.locations_source, "locations", found)
    if args.vm_sizes:
        sizes = vm_sizes(args.vm_sizes.read_text(encoding="utf-8"))
        if len(sizes) < 100:
            print(f"error: only {len(sizes)} VM sizes found in {args.vm_sizes}", file=sys.stderr)
            return 1
        _write(DATA / "azure-vm-sizes.json", args.vm_sizes_source, "vm_sizes", sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
