"""An APIOps extractor folder → Estate.

Accepts the spellings the extractor used over time: `policy fragments` / `policyFragments`,
`named values` / `namedValues`, product APIs as `apis.json` or `apis/<name>/productApiInformation.json`,
information files with or without a `properties` wrapper, and workspaces where present.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..estate import (
    CARRIES_APIS,
    CARRIES_LOGGING,
    CARRIES_POLICIES,
    Api,
    ApimService,
    Backend,
    Diagnostic,
    Estate,
    Fragment,
    Logger,
    NamedValue,
    Operation,
    Product,
    SourceInfo,
    Workspace,
)
from ..policy.tree import Origin
from .apiops_layout import service_name_for
from .files import Reader, as_bool, as_str, link_gap, outside, properties

SPEC_FILES = ("specification.yaml", "specification.yml", "specification.json")
MAX_SPEC_BYTES = 16 * 1024 * 1024
CARRIES = frozenset({CARRIES_POLICIES, CARRIES_APIS, CARRIES_LOGGING})


def _subdirs(path: str, reader: Reader | None = None) -> list[str]:
    """Folders of path, never through a symbolic link; a link that leads out of the reader's root is a gap."""
    try:
        with os.scandir(path) as it:
            entries = [e for e in it if not e.name.startswith(".")]
    except OSError:
        return []
    names = []
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            names.append(e.name)
            if reader is not None:
                reader.known_dir(path, e.name, e.path)
        elif e.is_symlink() and reader is not None and reader.root and outside(e.path, reader.root):
            reader.gaps.append(link_gap(e.path))
    return sorted(names)


def _first_dir(root: str, *names: str) -> str | None:
    for name in names:
        p = os.path.join(root, name)
        if os.path.isdir(p):
            return p
    return None


class _ApiopsReader:
    def __init__(self, root: str, service: str):
        self.root = root
        self.io = Reader(root=root)
        self.service = service

    def has_file(self, folder: str, filename: str) -> bool:
        """A regular file (or a link to one) in folder, never a FIFO or device, which would block a read."""
        return self.io.is_file(os.path.join(folder, filename))

    def info(self, folder: str, filename: str) -> dict:
        path = os.path.join(folder, filename)
        if not self.io.is_file(path):
            return {}
        doc = self.io.read_json(path)
        props = properties(doc)
        if doc is not None and not isinstance(doc, dict):
            self.io.gap("unparseable", path, "expected a JSON object")
        elif isinstance(doc, dict) and "properties" in doc and not isinstance(doc["properties"], dict):
            self.io.gap("unparseable", path, f"`properties` is {type(doc['properties']).__name__}, expected an object")
            return {}
        return props

    def policy(self, folder: str, scope: str, label: str, resource: str, filename: str = "policy.xml"):
        path = os.path.join(folder, filename)
        if not self.io.is_file(path):
            return None
        return self.io.read_policy(path, scope, label, resource)

    # ------------------------------------------------------------------ pieces of one service or workspace

    def operations(self, api_dir: str, api_name: str, resource: str) -> tuple[tuple[Operation, ...], tuple[str, ...]]:
        from_spec: tuple[Operation, ...] = ()
        for spec_name in SPEC_FILES:
            spec_path = os.path.join(api_dir, spec_name)
            if self.has_file(api_dir, spec_name):
                data = self.io.read_bytes(spec_path, MAX_SPEC_BYTES)
                if data is not None:
                    import yaml  # only where an API ships a definition: YAML is not a start-up cost

                    from .spec import operations_from_spec

                    try:
                        from_spec = operations_from_spec(data.decode("utf-8-sig"), spec_path)
                    except (ValueError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
                        line = getattr(getattr(exc, "problem_mark", None), "line", None)
                        self.io.gap("unparseable", spec_path, f"API definition not readable: {(str(exc).splitlines() or [type(exc).__name__])[0]}",
                                    line + 1 if line is not None else None, resource)
                break
        by_name = {op.name: op for op in from_spec}
        ops_dir = os.path.join(api_dir, "operations")
        for op_name in _subdirs(ops_dir, self.io):
            op_dir = os.path.join(ops_dir, op_name)
            info = self.info(op_dir, "operationInformation.json")
            policy = self.policy(op_dir, "operation", f"operation '{op_name}'", f"{resource}/operations/{op_name}")
            method, url, display = as_str(info.get("method")), as_str(info.get("urlTemplate")), as_str(info.get("displayName"))
            existing = by_name.get(op_name)
            if existing is None:  # no API definition named it (the common case): no copy to make
                by_name[op_name] = Operation(name=op_name, method=method, url_template=url, display_name=display,
                                             policy=policy)
            else:
                by_name[op_name] = replace(existing, method=method or existing.method,
                                           url_template=url or existing.url_template,
                                           display_name=display or existing.display_name, policy=policy)
        paths = tuple(sorted({op.url_template for op in from_spec if op.url_template}))
        return tuple(by_name[k] for k in sorted(by_name)), paths

    def apis(self, base: str, workspace: str | None) -> tuple[Api, ...]:
        apis_dir = os.path.join(base, "apis")
        result = []
        prefix = f"service/{self.service}" + (f"/workspaces/{workspace}" if workspace else "")
        for name in _subdirs(apis_dir, self.io):
            api_dir = os.path.join(apis_dir, name)
            info_path = os.path.join(api_dir, "apiInformation.json")
            props = self.info(api_dir, "apiInformation.json")
            resource = f"{prefix}/apis/{name}"
            operations, spec_paths = self.operations(api_dir, name, resource)
            revision = as_str(props.get("apiRevision")) or (name.split(";rev=")[1] if ";rev=" in name else "")
            is_current = as_bool(props.get("isCurrent"))
            result.append(
                Api(
                    name=name,
                    display_name=as_str(props.get("displayName")) or name,
                    path=as_str(props.get("path")),
                    service_url=as_str(props.get("serviceUrl")),
                    api_type=as_str(props.get("type") or props.get("apiType")) or "http",
                    subscription_required=as_bool(props.get("subscriptionRequired")),
                    is_current=is_current if is_current is not None else ";rev=" not in name,
                    revision=revision,
                    workspace=workspace,
                    policy=self.policy(api_dir, "api", f"api '{name}'", resource),
                    operations=operations,
                    spec_paths=spec_paths,
                    origin=Origin(info_path if os.path.isfile(info_path) else api_dir, None, None, f"api '{name}'"),
                )
            )
        return tuple(result)

    def products(self, base: str, workspace: str | None) -> tuple[Product, ...]:
        result = []
        prefix = f"service/{self.service}" + (f"/workspaces/{workspace}" if workspace else "")
        for name in _subdirs(os.path.join(base, "products"), self.io):
            pdir = os.path.join(base, "products", name)
            props = self.info(pdir, "productInformation.json")
            api_names = list(_subdirs(os.path.join(pdir, "apis"), self.io))
            apis_json = os.path.join(pdir, "apis.json")
            if os.path.isfile(apis_json):
                listed = self.io.read_json(apis_json)
                for item in listed if isinstance(listed, list) else []:
                    api_name = item.get("name") if isinstance(item, dict) else item
                    if isinstance(api_name, str):
                        api_names.append(api_name.rsplit("/", 1)[-1])
            result.append(
                Product(
                    name=name,
                    display_name=as_str(props.get("displayName")) or name,
                    subscription_required=as_bool(props.get("subscriptionRequired")),
                    apis=tuple(dict.fromkeys(api_names)),
                    workspace=workspace,
                    policy=self.policy(pdir, "product", f"product '{name}'", f"{prefix}/products/{name}"),
                    origin=Origin(os.path.join(pdir, "productInformation.json"), None, None, f"product '{name}'"),
                )
            )
        return tuple(result)

    def _prefix(self, workspace: str | None) -> str:
        return f"service/{self.service}" + (f"/workspaces/{workspace}" if workspace else "")

    def fragments(self, base: str, workspace: str | None) -> tuple[Fragment, ...]:
        folder = _first_dir(base, "policy fragments", "policyFragments", "policy-fragments")
        result = []
        for name in _subdirs(folder, self.io) if folder else []:
            fdir = os.path.join(folder, name)  # type: ignore[arg-type]
            policy = self.policy(fdir, "fragment", f"fragment '{name}'", f"{self._prefix(workspace)}/policyFragments/{name}")
            if policy is None:
                policy = self.policy(fdir, "fragment", f"fragment '{name}'", "", filename="fragment.xml")
            if policy is not None:
                result.append(Fragment(name, policy, workspace))
        return tuple(result)

    def named_values(self, base: str, workspace: str | None = None) -> tuple[NamedValue, ...]:
        folder = _first_dir(base, "named values", "namedValues", "named-values")
        result = []
        for name in _subdirs(folder, self.io) if folder else []:
            props = self.info(os.path.join(folder, name), "namedValueInformation.json")  # type: ignore[arg-type]
            secret = bool(as_bool(props.get("secret")))
            key_vault = isinstance(props.get("keyVault"), dict)
            result.append(
                NamedValue.read(
                    name,
                    as_str(props.get("displayName")) or name,
                    secret,
                    key_vault,
                    as_str(props.get("value")) or None,
                    Origin(os.path.join(folder, name, "namedValueInformation.json"), None, None, f"named value '{name}'"),  # type: ignore[arg-type]
                    workspace,
                )
            )
        return tuple(result)

    def backends(self, base: str, workspace: str | None = None) -> tuple[Backend, ...]:
        result = []
        for name in _subdirs(os.path.join(base, "backends"), self.io):
            props = self.info(os.path.join(base, "backends", name), "backendInformation.json")
            pool = props.get("pool") if isinstance(props.get("pool"), dict) else {}
            members = tuple(
                as_str(s.get("id")).rstrip("/").rsplit("/", 1)[-1]
                for s in pool.get("services", []) if isinstance(s, dict)
            )
            result.append(
                Backend(
                    name=name,
                    url=as_str(props.get("url")),
                    backend_type="pool" if members or as_str(props.get("type")).lower() == "pool" else "single",
                    pool_members=members,
                    resource_id=as_str(props.get("resourceId")),
                    workspace=workspace,
                )
            )
        return tuple(result)

    def loggers(self, base: str, workspace: str | None = None) -> tuple[Logger, ...]:
        result = []
        for name in _subdirs(os.path.join(base, "loggers"), self.io):
            props = self.info(os.path.join(base, "loggers", name), "loggerInformation.json")
            # `credentials` holds instrumentation keys / connection strings: never read into the estate
            result.append(Logger(name, as_str(props.get("loggerType")), as_str(props.get("resourceId")), workspace))
        return tuple(result)

    def diagnostics(self, folder: str, api: str | None, workspace: str | None = None) -> tuple[Diagnostic, ...]:
        result = []
        for name in _subdirs(os.path.join(folder, "diagnostics"), self.io):
            path = os.path.join(folder, "diagnostics", name, "diagnosticInformation.json")
            props = self.info(os.path.dirname(path), "diagnosticInformation.json")
            result.append(diagnostic_from_props(name, props, api, Origin(path, None, None, f"diagnostic '{name}'"),
                                                workspace))
        return tuple(result)

    # ------------------------------------------------------------------ whole service

    def read(self) -> ApimService:
        """The service and, under `workspaces/<ws>/`, each workspace's own entities, read like the service's and
        marked with their workspace. The workspace policy is `workspaces/<ws>/policy.xml`, where the extractor's
        `{name}.xml` rule puts a workspace's policy (Resource.FileSystem.cs GetPolicyFile)."""
        root = self.root
        workspaces = []
        ws_apis: list[Api] = []
        ws_products: list[Product] = []
        ws_fragments: list[Fragment] = []
        ws_named: list[NamedValue] = []
        ws_backends: list[Backend] = []
        ws_loggers: list[Logger] = []
        ws_diagnostics: list[Diagnostic] = []
        for ws in _subdirs(os.path.join(root, "workspaces"), self.io):
            wdir = os.path.join(root, "workspaces", ws)
            workspaces.append(
                Workspace(ws, self.policy(wdir, "workspace", f"workspace '{ws}'", self._prefix(ws)))
            )
            ws_apis.extend(self.apis(wdir, ws))
            ws_products.extend(self.products(wdir, ws))
            ws_fragments.extend(self.fragments(wdir, ws))
            ws_named.extend(self.named_values(wdir, ws))
            ws_backends.extend(self.backends(wdir, ws))
            ws_loggers.extend(self.loggers(wdir, ws))
            ws_diagnostics.extend(self.diagnostics(wdir, None, ws))
        apis = self.apis(root, None) + tuple(ws_apis)
        api_diagnostics = tuple(
            d
            for api in apis
            for d in self.diagnostics(
                os.path.join(root, *(("workspaces", api.workspace) if api.workspace else ()), "apis", api.name), api.name,
                api.workspace,
            )
        )
        global_path = next(
            (n for n in ("policy.xml", "globalServicePolicy.xml") if os.path.isfile(os.path.join(root, n))), None
        )
        return ApimService(
            name=self.service,
            global_policy=self.policy(root, "global", "global", f"service/{self.service}", global_path)
            if global_path
            else None,
            workspaces=tuple(workspaces),
            products=self.products(root, None) + tuple(ws_products),
            apis=apis,
            fragments=self.fragments(root, None) + tuple(ws_fragments),
            named_values=self.named_values(root) + tuple(ws_named),
            backends=self.backends(root) + tuple(ws_backends),
            loggers=self.loggers(root) + tuple(ws_loggers),
            diagnostics=self.diagnostics(root, None) + tuple(ws_diagnostics) + api_diagnostics,
            origin=Origin(root, None, None, "service"),
        )


def diagnostic_from_props(name: str, props: dict, api: str | None, origin: Origin, workspace: str | None = None
                          ) -> Diagnostic:
    """APIM diagnostic entity fields, the same in APIOps information files, ARM and REST."""
    sampling = props.get("sampling") if isinstance(props.get("sampling"), dict) else {}
    percentage = sampling.get("percentage")
    llm = props.get("largeLanguageModel") if isinstance(props.get("largeLanguageModel"), dict) else None
    return Diagnostic(
        name=name,
        logger_id=as_str(props.get("loggerId")),
        api=api,
        metrics=as_bool(props.get("metrics")),
        sampling_percentage=float(percentage) if isinstance(percentage, (int, float)) else None,
        llm_logging=as_str(llm.get("logs")) or None if llm else None,
        origin=origin,
        workspace=workspace,
    )


def read_apiops(root: str, service_name: str | None = None) -> Estate:
    name, name_from = service_name_for(root, service_name)
    reader = _ApiopsReader(root, name)
    service = reader.read()
    return Estate(
        sources=(SourceInfo("apiops", root, CARRIES, detail=name_from),),
        services=(service,),
        gaps=tuple(reader.io.gaps),
        root=root,
    )
