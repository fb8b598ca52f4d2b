"""Where the binding tests find their inputs: the committed schema subset, and shared/ beside the repo."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSION = "1.16.0"
"""The pinned azuredevops provider: bump it with the committed subset (docs/upgrading.md)."""
SUBSET = REPO / "infra" / "bindings" / "schema" / f"azuredevops-{VERSION}.json"
"""The committed schema subset the generator reads (in every fork)."""
AZAPI_VERSION = "2.12.0"
AZAPI_SUBSET = REPO / "infra" / "bindings" / "schema" / f"azapi-{AZAPI_VERSION}.json"
"""The azapi types the hand-written bindings use, of the version tf-validate runs."""
SHARED = REPO.parent / "shared"
FULL_SCHEMA = SHARED / "reference" / "provider-schemas" / f"azuredevops-{VERSION}.json.gz"
"""The full `terraform providers schema -json` output of the pinned provider (only beside the kit's workspace)."""
SCHEMA_CHECK = SHARED / "tools" / "tf-schema-check"
