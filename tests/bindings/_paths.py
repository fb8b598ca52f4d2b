"""Where the shared reference material lives: ``shared/`` beside the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCHEMA = SHARED / "reference" / "provider-schemas" / "azuredevops-1.16.0.json.gz"
SCHEMA_CHECK = SHARED / "tools" / "tf-schema-check"
