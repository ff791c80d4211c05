"""Where an APIOps extract is and which service it holds: the folder layout the extractor writes, and the
service name its configuration gives. Only names and listings are read here, never an entity."""

from __future__ import annotations

import os

from ..config import ConfigError, read_yaml
from ..estate_identity import FOLDER_NAMED
from ..project_root import find_project_root, project_path

MARKERS = ("apis", "products", "policy fragments", "policyFragments", "named values", "namedValues", "backends")
# What the APIOps extractor writes inside `workspaces/<ws>/`: the CollectionDirectoryName of each Workspace*
# resource and `{name}.xml` policies (Azure/apiops src/common/Workspace*.cs, Resource.FileSystem.cs
# GetCollectionDirectoryInfo / GetPolicyFile, commit c248e0b).
WORKSPACE_MARKERS = ("apis", "products", "backends", "loggers", "diagnostics", "named values", "policy fragments",
                     "version sets", "groups", "subscriptions", "tags", "policy.xml")
def looks_like_apiops(path: str) -> bool:
    if not os.path.isdir(path):
        return False
    names = set(os.listdir(path))
    if "workspaces" in names and _holds_workspaces(os.path.join(path, "workspaces")):
        return True  # a service whose APIs all live in workspaces: its root has `workspaces/` and `policy.xml`
    return bool(names & set(MARKERS)) and (
        "apis" in names or "products" in names or "policy.xml" in names or bool(names & set(MARKERS[2:]))
    )


def _holds_workspaces(folder: str) -> bool:
    """A `workspaces` folder as the extractor writes it: some workspace folder holds one of its collections."""
    try:
        with os.scandir(folder) as it:
            spaces = [e.path for e in it if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        return False
    for ws in spaces[:64]:  # enough to tell; a huge unrelated tree is not walked
        try:
            if set(os.listdir(ws)) & set(WORKSPACE_MARKERS):
                return True
        except OSError:
            continue
    return False


EXTRACTOR_CONFIGS = ("configuration.extractor.yaml", "configuration.extractor.yml")
SERVICE_NAME_KEYS = ("apimServiceName", "API_MANAGEMENT_SERVICE_NAME", "serviceName")


def _extractor_service_name(root: str) -> tuple[str, str] | None:
    """The service name the APIOps extractor configuration gives, from the artefact folder up to the repository
    root: (name, file). The extractor takes API_MANAGEMENT_SERVICE_NAME as a setting (Azure/apiops docs, "Tools -
    Extractor"); configuration files that carry it use `apimServiceName` as the publisher's do."""
    top = find_project_root(root)
    folder = os.path.abspath(root)
    while True:
        for name in EXTRACTOR_CONFIGS:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                try:
                    data = read_yaml(path)  # bounded in size and aliases, like the tool's own config
                except ConfigError:
                    data = None  # not the extractor's: the name comes from elsewhere, and the report says so
                if isinstance(data, dict):
                    for key in SERVICE_NAME_KEYS:
                        if isinstance(data.get(key), str) and data[key].strip():
                            return data[key].strip(), project_path(path, top)
        parent = os.path.dirname(folder)
        if folder == top or parent == folder:
            return None
        folder = parent


def service_name_for(root: str, configured: str | None = None) -> tuple[str, str]:
    """The APIM service an APIOps folder holds, and where that name came from (said in the report): the
    extractor's configuration, then --service-name / `service_name:` in the config file, then the folder's
    name. Fingerprints contain it, so a baseline survives a renamed or differently spelled folder."""
    found = _extractor_service_name(root)
    if found:
        return found[0], f"service name from the extractor configuration {found[1]}"
    if configured:
        return configured, "service name from --service-name / the config file"
    name = os.path.basename(os.path.abspath(root))
    return (name or "apim"), f"{FOLDER_NAMED} (set --service-name or apimServiceName in " \
        "configuration.extractor.yaml to keep fingerprints when the folder moves)"
