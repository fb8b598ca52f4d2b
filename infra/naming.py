"""Azure resource names: CAF abbreviations, Azure's length and charset rules, global-uniqueness suffix.

Pure Python (no cdktf), so config validation can compute every name a team will get and reject
the YAML before synth when a name breaks an Azure rule. Names are deterministic: the same
(prefix, team, env) always yields the same names, so resource addresses and names never drift.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

ENV_CODES = {"dev": "dev", "staging": "stg", "prod": "prd", "shared": "shr"}


@dataclass(frozen=True)
class NameRule:
    """How Azure constrains one resource type's name (from Azure's naming-rules page)."""

    label: str  # human name used in error messages
    abbreviation: str  # CAF abbreviation
    min_len: int
    max_len: int
    pattern: str  # full-match regex for allowed names
    compact: bool = False  # no separators (storage, registries, tight key vault limit)
    globally_unique: bool = False  # part of a public DNS name: add the deterministic suffix


_HYPHENATED = r"[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]"
RULES: dict[str, NameRule] = {
    "resource_group": NameRule("resource group", "rg", 1, 90, r"[-\w.()]*[-\w()]"),
    "log_analytics": NameRule("Log Analytics workspace", "log", 4, 63, _HYPHENATED),
    "app_insights": NameRule("Application Insights", "appi", 1, 255, r"[^%&\\?/]+"),
    "key_vault": NameRule("Key Vault", "kv", 3, 24, r"[a-zA-Z][a-zA-Z0-9]*", compact=True, globally_unique=True),
    "container_registry": NameRule(
        "container registry", "cr", 5, 50, r"[a-zA-Z0-9]+", compact=True, globally_unique=True
    ),
    "ml_storage": NameRule("storage account (Azure ML)", "st", 3, 24, r"[a-z0-9]+", compact=True, globally_unique=True),
    "data_lake": NameRule("storage account (data lake)", "dls", 3, 24, r"[a-z0-9]+", compact=True, globally_unique=True),
    "function_storage": NameRule(
        "storage account (trigger function)", "stfn", 3, 24, r"[a-z0-9]+", compact=True, globally_unique=True
    ),
    # Code packages of the trigger function (Flex deployment storage); 4 letters like "stfn", so a
    # team whose names fit today still fits.
    "package_storage": NameRule(
        "storage account (function code packages)", "stpk", 3, 24, r"[a-z0-9]+", compact=True, globally_unique=True
    ),
    "ml_workspace": NameRule("Azure ML workspace", "mlw", 3, 33, r"[a-zA-Z0-9][a-zA-Z0-9_-]*"),
    "ml_registry": NameRule("Azure ML registry", "mlr", 3, 33, r"[a-zA-Z0-9][a-zA-Z0-9_-]*", globally_unique=True),
    "user_assigned_identity": NameRule("managed identity", "id", 3, 128, r"[a-zA-Z0-9][a-zA-Z0-9_-]*"),
    "function_app": NameRule("function app", "func", 2, 60, r"[a-z0-9][a-z0-9-]*[a-z0-9]", globally_unique=True),
    "app_service_plan": NameRule("App Service plan", "asp", 1, 60, r"[a-zA-Z0-9-]+"),
    "eventgrid_system_topic": NameRule("Event Grid system topic", "egst", 3, 128, r"[a-zA-Z0-9-]+"),
    "ml_endpoint": NameRule(
        "Azure ML online endpoint", "ep", 3, 32, r"[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]", globally_unique=True
    ),
    "private_endpoint": NameRule("private endpoint", "pep", 2, 64, r"[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9_]"),
}


def suffix(prefix: str, team: str, env: str) -> str:
    """Four hex characters derived from (prefix, team, env): stable across runs and machines."""
    return hashlib.sha256(f"{prefix}/{team}/{env}".encode()).hexdigest()[:4]


@dataclass(frozen=True)
class Namer:
    """Names for one team environment (env may be 'shared' for team-wide resources)."""

    prefix: str
    team: str
    env: str

    @property
    def env_code(self) -> str:
        return ENV_CODES.get(self.env, self.env)

    def name(self, kind: str, purpose: str = "") -> str:
        rule = RULES[kind]
        parts = [rule.abbreviation, self.prefix, self.team, purpose, self.env_code]
        if rule.globally_unique:
            parts.append(suffix(self.prefix, self.team, self.env))
        parts = [p for p in parts if p]
        if rule.compact:
            return "".join(p.replace("-", "") for p in parts).lower()
        return "-".join(parts)

    def problem(self, kind: str, purpose: str = "") -> str | None:
        """Why the computed name breaks Azure's rule for `kind`, or None when it is valid."""
        rule = RULES[kind]
        name = self.name(kind, purpose)
        if not rule.min_len <= len(name) <= rule.max_len:
            over = len(name) - rule.max_len
            hint = f"; shorten the team name or naming_prefix by {over} characters" if over > 0 else ""
            return (
                f"{rule.label} name '{name}' is {len(name)} characters, Azure allows "
                f"{rule.min_len}-{rule.max_len}{hint}"
            )
        if not re.fullmatch(rule.pattern, name):
            return f"{rule.label} name '{name}' has characters Azure does not allow (pattern {rule.pattern})"
        return None

    def all_names(self) -> dict[str, str]:
        return {kind: self.name(kind) for kind in RULES}


def globally_unique_names(namer: Namer) -> dict[str, str]:
    """The names that must be unique across every team of the organization (and of Azure)."""
    return {kind: namer.name(kind) for kind, rule in RULES.items() if rule.globally_unique}


# The kit-owned templates repository in every team project (infra/repos.py creates it; the team
# pipelines extend its templates; the diagram and the seed files name it).
TEMPLATES_REPOSITORY = "mlops-templates"
