"""The kit's Azure DevOps checks (one resource at a time): CKV_MLK_7 .. CKV_MLK_9. See docs/policies.md.

checkov ships no Python checks for the azuredevops provider; the cross-resource ones (approvals,
branch control, branch policies) are graph checks in policies/mlk_graph.py.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.mlk_common import block, blocks, fail, guideline, is_true, value

WORKLOAD_IDENTITY = "WorkloadIdentityFederation"
SECRET_CREDENTIALS = ("serviceprincipalkey", "serviceprincipalcertificate")


class ServiceConnectionWorkloadIdentity(BaseResourceCheck):
    """CKV_MLK_7: Azure service connections federate (no secret to leak or rotate)."""

    def __init__(self) -> None:
        super().__init__(
            name="Azure service connection: workload identity federation, no key or certificate in credentials",
            id="CKV_MLK_7",
            categories=(CheckCategories.SECRETS,),
            supported_resources=("azuredevops_serviceendpoint_azurerm",),
            guideline=guideline("CKV_MLK_7"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["service_endpoint_authentication_scheme", "credentials"]
        problems = []
        scheme = value(conf, "service_endpoint_authentication_scheme")
        if scheme != WORKLOAD_IDENTITY:
            problems.append(
                f"service_endpoint_authentication_scheme must be {WORKLOAD_IDENTITY!r}, got {scheme!r}"
                + (" (absent means the provider default, ServicePrincipal with a secret)" if scheme is None else "")
            )
        for cred in blocks(conf, "credentials"):
            for key in SECRET_CREDENTIALS:
                if key in cred:
                    problems.append(f"credentials.{key} is set: a secret in code and state")
        return fail(self, *problems) if problems else CheckResult.PASSED


class SecretVariablesFromKeyVault(BaseResourceCheck):
    """CKV_MLK_8: secret pipeline variables come from Key Vault, never from Terraform."""

    def __init__(self) -> None:
        super().__init__(
            name="Variable group with secret variables: linked to Key Vault (key_vault block), no secret_value",
            id="CKV_MLK_8",
            categories=(CheckCategories.SECRETS,),
            supported_resources=("azuredevops_variable_group",),
            guideline=guideline("CKV_MLK_8"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["variable", "key_vault"]
        variables = blocks(conf, "variable")
        secret = [str(value(v, "name")) for v in variables if is_true(value(v, "is_secret")) or "secret_value" in v]
        problems = []
        if secret and block(conf, "key_vault") is None:
            problems.append(
                f"secret variable(s) {', '.join(secret)} but no key_vault block: link the group to the "
                "environment's Key Vault so secrets never pass through Terraform"
            )
        with_value = [str(value(v, "name")) for v in variables if "secret_value" in v]
        if with_value:
            problems.append(f"secret_value set for {', '.join(with_value)}: the secret is in code and state")
        return fail(self, *problems) if problems else CheckResult.PASSED


class ProjectPrivate(BaseResourceCheck):
    """CKV_MLK_9: the team's Azure DevOps project is private."""

    def __init__(self) -> None:
        super().__init__(
            name="Azure DevOps project: visibility private (absent = the provider default, private)",
            id="CKV_MLK_9",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("azuredevops_project",),
            guideline=guideline("CKV_MLK_9"),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["visibility"]
        visibility = value(conf, "visibility", "private")
        if visibility == "private":
            return CheckResult.PASSED
        return fail(self, f"visibility must be 'private', got {visibility!r}")


CHECKS = (ServiceConnectionWorkloadIdentity(), SecretVariablesFromKeyVault(), ProjectPrivate())
