"""Typed cdktf bindings for providers without prebuilt cdktf packages.

- ``infra.bindings.azuredevops``: microsoft/azuredevops 1.16.0, generated from its schema by
  ``scripts/gen_bindings.py`` (do not edit it by hand).
- ``infra.bindings.azapi``: Azure/azapi ``~> 2.5``, hand-written (provider and ``azapi_resource``).

Both import only cdktf and constructs (not the prebuilt azurerm package, which is slow to import).
"""
