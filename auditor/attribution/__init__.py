"""The attribution model: how each LLM account and deployment's spend reaches a team, computed before the rules."""

from ..config import DEFAULT_OWNER_TAGS
from .model import (
    BY_RESOURCE,
    GATEWAY_ROLE,
    METERED,
    NO_OWNER,
    OWNED,
    PATHS,
    SHARED,
    TEAM_GATEWAY,
    Architecture,
    AttributionModel,
    DeploymentPath,
    Gateway,
    Owner,
)
from .paths import build_model

__all__ = ["BY_RESOURCE", "DEFAULT_OWNER_TAGS", "GATEWAY_ROLE", "METERED", "NO_OWNER", "OWNED", "PATHS", "SHARED",
           "TEAM_GATEWAY", "Architecture", "AttributionModel", "DeploymentPath", "Gateway", "Owner", "build_model"]
