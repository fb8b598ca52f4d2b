"""The shipped Azure lists: generated from public sources, dated, and covering what the kit itself uses."""

from __future__ import annotations

import json

from infra.config import DATA_DIR, Compute, known_locations, known_vm_sizes
from scripts import gen_azure_data as gen
from tests.conftest import ORG


def test_lists_name_their_source_and_date():
    for name, key, least in (("azure-locations.json", "locations", 40), ("azure-vm-sizes.json", "vm_sizes", 100)):
        doc = json.loads((DATA_DIR / name).read_text())
        assert doc["source"].startswith("https://github.com/Azure/") and doc["generated"][:2] == "20"
        assert len(doc[key]) >= least


def test_the_kit_defaults_and_the_fixture_org_are_in_the_lists():
    assert Compute().vm_size in known_vm_sizes()
    assert {"Standard_DS3_v2", "Standard_DS4_v2", "Standard_D4s_v5", "Standard_NC24ads_A100_v4"} <= known_vm_sizes()
    assert {"westeurope", "northeurope", "eastus2", "swedencentral"} <= set(known_locations()["locations"])
    assert "default_location: westeurope" in (ORG / "platform.yaml").read_text()


def test_generator_parses_its_sources(tmp_path):
    cs = 'CreateStaticReference("westeurope", "West Europe");\nCreateStaticReference("eastus", "East US");'
    assert gen.locations(cs) == {"eastus": "East US", "westeurope": "West Europe"}
    go = '"Standard_D2s_v5": {\n\t\tSize: "D2s_v5",\n\t},\n"Basic_A0": {\n"Standard_A1": {'
    assert gen.vm_sizes(go) == ["Standard_A1", "Standard_D2s_v5"]
