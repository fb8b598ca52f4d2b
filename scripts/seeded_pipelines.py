"""Write the pipeline YAML that the synthesized devops stacks commit (cdktf.out) to a folder, to lint it.

python -m scripts.seeded_pipelines cdktf.out /tmp/seeded   # -> /tmp/seeded/<stack>/<repo>/pipelines/*.yml

Why not hand cdktf.out to pipeline-yaml-check directly: in Terraform JSON a literal `${` is written
`$${`, so every pipeline with a template expression is skipped there, while non-pipeline YAML the kit
seeds (the training environment's conda file) is read as a pipeline. This writes exactly the content
Terraform commits, unescaped, and only the files under `pipelines/`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from scripts.exit_codes import EXIT_OK, EXIT_USER_ERROR

_REPO_REF = re.compile(r"\$\{azuredevops_git_repository\.([A-Za-z0-9_]+)\.id\}")


def seeded_pipelines(outdir: Path) -> dict[str, str]:
    """{"<stack>/<repo address>/<file>": content} for every pipeline file of every stack in `outdir`."""
    found: dict[str, str] = {}
    for path in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
        files = json.loads(path.read_text()).get("resource", {}).get("azuredevops_git_repository_file", {})
        for resource in files.values():
            name = str(resource.get("file", ""))
            if not (name.startswith("pipelines/") and name.endswith((".yml", ".yaml"))):
                continue
            ref = _REPO_REF.fullmatch(str(resource.get("repository_id", "")))
            repo = ref.group(1) if ref else "repo"
            found[f"{path.parent.name}/{repo}/{name}"] = str(resource["content"]).replace("$${", "${")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m scripts.seeded_pipelines CDKTF_OUT DEST", file=sys.stderr)
        return EXIT_USER_ERROR
    outdir, dest = Path(argv[0]), Path(argv[1])
    found = seeded_pipelines(outdir)
    if not found:
        print(f"error: no seeded pipeline files in {outdir}/stacks/*/cdk.tf.json (synth first)", file=sys.stderr)
        return EXIT_USER_ERROR
    for rel, content in found.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    print(f"{len(found)} pipeline files under {dest}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
