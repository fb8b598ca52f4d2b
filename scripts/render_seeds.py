"""Write the files the kit seeds into a team's repositories to a folder, to read or lint them.

python -m scripts.render_seeds example /tmp/seeds   # -> /tmp/seeds/example-{model,app,templates}/...
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.config import load_org
from infra.seeds import seed_files
from scripts.entry import teams_dir, user_errors
from scripts.exit_codes import EXIT_OK, EXIT_USER_ERROR


def render_to(team_name: str, outdir: Path) -> list[Path]:
    org = load_org(teams_dir())
    teams = {tf.team.name: tf.team for tf in org.teams}
    if team_name not in teams:
        raise SystemExit(f"error: no team '{team_name}' in {org.root}. Fix: use one of {sorted(teams)}")
    written = []
    for repo, files in seed_files(org, teams[team_name]).items():
        for path, content in files.items():
            target = outdir / f"{team_name}-{repo}" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return EXIT_USER_ERROR
    with user_errors():
        written = render_to(argv[0], Path(argv[1]))
    print(f"{len(written)} files under {argv[1]}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
