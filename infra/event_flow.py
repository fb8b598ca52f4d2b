"""Props of the event flow, in small frozen groups that PipelineTriggers, EventGrid and FlexFunctionApp share.

infra/triggers.py takes them all (`PipelineTriggersProps`) and hands each part on as it is: Event
Grid gets the names, sources and delivery policy, the function app the names, network and code
package. Both constructs also take the interface contract (`interfaces`, infra/interfaces.py), whose
`private_endpoints` is the network placement: None is public mode. Private mode also needs the
subnet the app leaves through, `FunctionNetwork`, which is given exactly when the placement is
(`check_network`), so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.interfaces import Interfaces


@dataclass(frozen=True)
class ResourceGroupRef:
    name: str
    id: str
    location: str


@dataclass(frozen=True)
class TriggerNames:
    """Azure names of the event flow's resources (infra/naming.py)."""

    function_app: str
    plan: str
    storage: str  # host state, event queues, claims
    package_storage: str  # code packages only (infra/function_app.py)
    identity: str  # the Azure DevOps stack finds the identity by this name
    lake_topic: str
    ml_topic: str


@dataclass(frozen=True)
class EventSources:
    """What starts a run: a committed marker file in the lake, a registered version of the team's model."""

    data_lake_id: str
    workspace_id: str
    training_filesystem: str
    training_prefix: str
    marker_suffix: str
    model_name: str  # the name model-ci/training register (`<team>-model`): only its events start a release


@dataclass(frozen=True)
class DeliveryPolicy:
    """Event Grid's retries and where an undeliverable event lands (the lake's dead-letter container)."""

    max_delivery_attempts: int
    event_ttl_minutes: int
    dead_letter_container_name: str
    dead_letter_container_id: str  # ARM id of the container (role scope)


@dataclass(frozen=True)
class DevopsTarget:
    """The Azure DevOps pipelines the function starts, and the environment it serves."""

    org_url: str
    project: str
    training_pipeline: str
    release_pipeline: str
    pipeline_folder: str
    environment_name: str  # the kit environment this function serves (passed to both pipelines)


@dataclass(frozen=True)
class Telemetry:
    app_insights_connection_string: str
    app_insights_id: str
    app_insights_local_auth_disabled: bool  # then ingestion needs Entra: a role and an auth setting


@dataclass(frozen=True)
class CodePackage:
    """The function's zip (built by `mlops-kit package`) and its content hash, which names the uploaded blob.

    FlexFunctionApp makes the zip a TerraformAsset of its stack (cdktf copies it into cdktf.out).
    """

    zip_path: str  # absolute path of the built zip
    content_hash: str


@dataclass(frozen=True)
class FunctionNetwork:
    """Private mode's outbound half: the subnet the app leaves through (VNet integration). The inbound half, where
    the private endpoints go, is `interfaces.private_endpoints`."""

    function_subnet_id: str


def check_network(interfaces: Interfaces, network: FunctionNetwork | None) -> None:
    """The function subnet comes with the placement: private mode needs it, public mode takes none."""
    if interfaces.private != (network is not None):
        mode = "private mode (interfaces.private_endpoints set)" if interfaces.private else "public mode"
        need = "needs" if interfaces.private else "takes no"
        raise ValueError(f"event flow: {mode} {need} network (FunctionNetwork, the function's outbound subnet)")
