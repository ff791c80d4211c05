"""Synthetic APIM estates for benchmarks: N APIs across services, ~6 policy files per API, planted gaps.

Writes an APIOps extractor tree (the other forms come from benchmarks/estate_writers.py, which reads
this tree back). Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import json
import os
import random

GLOBAL = """<policies>
    <inbound>
        <set-variable name="requestStart" value="@(DateTime.UtcNow)" />
        <include-fragment fragment-id="forward-attribution" />
    </inbound>
    <backend>
        <forward-request />
    </backend>
    <outbound />
    <on-error />
</policies>
"""
FRAGMENTS = {
    "forward-attribution": """<fragment>
    <set-header name="x-attribution-id" exists-action="override">
        <value>@(context.Subscription?.Id ?? "anonymous")</value>
    </set-header>
</fragment>
""",
    "emit-tokens": """<fragment>
    <llm-emit-token-metric namespace="llm-usage">
        <dimension name="Subscription ID" />
        <dimension name="API ID" />
        <dimension name="Team" value="@(context.Request.Headers.GetValueOrDefault("x-team-id", "unknown"))" />
    </llm-emit-token-metric>
</fragment>
""",
}
LLM_API = """<policies>
    <inbound>
        <base />
        <set-backend-service backend-id="{backend}" />
        <choose>
            <when condition="@(context.Request.Body.As<JObject>(preserveContent: true).Value<bool?>("stream") == true && {i} > 0)">
                <set-variable name="isStream" value="@("true")" />
            </when>
        </choose>
        {metric}
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
"""
PLAIN_API = """<policies>
    <inbound>
        <base />
        <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
        <set-header name="x-api" exists-action="override">
            <value>@(context.Api.Name + "/" + context.Operation.Id)</value>
        </set-header>
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
"""
OPERATION = """<policies>
    <inbound>
        {base}
        <set-query-parameter name="api-version" exists-action="skip">
            <value>2024-10-21</value>
        </set-query-parameter>
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
"""
LLM_OPS = ["ChatCompletions_Create", "Completions_Create", "Embeddings_Create", "Responses_Create"]

# A varied estate (--vary): every policy text differs, as in real estates, where teams write their own metric
# dimensions, header names, limits and expressions. Same shape and planted gaps as the repetitive estate.
INLINE_METRIC = """<llm-emit-token-metric namespace="{namespace}">
            <dimension name="Subscription ID" />
            <dimension name="{dim}" value="@(context.Request.Headers.GetValueOrDefault(&quot;{header}&quot;, &quot;{fallback}&quot;))" />
            <dimension name="{dim2}" value="@((string)context.Variables.GetValueOrDefault(&quot;{var}&quot;, &quot;n/a&quot;))" />
        </llm-emit-token-metric>"""
VARIED_OPERATION = """<policies>
    <inbound>
        {base}
        <set-variable name="{var}" value="@(context.Request.Headers.GetValueOrDefault(&quot;{header}&quot;, &quot;{fallback}&quot;))" />
        <set-query-parameter name="api-version" exists-action="skip">
            <value>{version}</value>
        </set-query-parameter>
        <rate-limit-by-key calls="{calls}" renewal-period="{period}" counter-key="@(context.Subscription.Id + &quot;-{op}&quot;)" />
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
        <set-header name="x-{op}-served-by" exists-action="override">
            <value>@(context.Deployment.Region + "/{api}")</value>
        </set-header>
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
"""


def _varied_operation(rnd: random.Random, api: str, op: str, base: str) -> str:
    return VARIED_OPERATION.format(
        base=base, var=f"team{rnd.randrange(1000)}", header=f"x-{rnd.choice(['team', 'tenant', 'app', 'cost'])}-"
        f"{rnd.randrange(100)}", fallback=rnd.choice(["unknown", "n/a", "", "none"]),
        version=f"20{rnd.randrange(23, 26)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
        calls=rnd.randrange(10, 5000), period=rnd.choice([1, 10, 60, 300]), op=op.lower(), api=api)


def _varied_metric(rnd: random.Random, a: int) -> str:
    return INLINE_METRIC.format(namespace=f"llm-{rnd.randrange(20)}", dim=rnd.choice(["Team", "Tenant", "App", "Owner"]),
                                header=f"x-team-{a}", fallback=rnd.choice(["unknown", "n/a", "none"]),
                                dim2=f"Cost Centre {rnd.randrange(50)}", var=f"team{rnd.randrange(1000)}")


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _json(path: str, doc: dict) -> None:
    _write(path, json.dumps({"properties": doc}, indent=2) + "\n")


def write_service(root: str, name: str, apis: int, seed: int = 7, llm_share: float = 0.4, vary: bool = False) -> int:
    """Write one APIOps service tree; returns the number of policy files written. `vary`: no two policy texts
    alike (names, dimensions, expressions, limits differ), as in real estates."""
    rnd = random.Random(f"{seed}:{name}")
    base = os.path.join(root, name)
    files = 0
    _write(os.path.join(base, "policy.xml"), GLOBAL)
    files += 1
    for frag, text in FRAGMENTS.items():
        _write(os.path.join(base, "policy fragments", frag, "policy.xml"), text)
        _json(os.path.join(base, "policy fragments", frag, "policyFragmentInformation.json"), {"format": "rawxml"})
        files += 1
    for i in range(3):
        _json(os.path.join(base, "backends", f"aoai-{i}", "backendInformation.json"),
              {"url": f"https://{name}-aoai-{i}.openai.azure.com/openai", "protocol": "http"})
    _json(os.path.join(base, "loggers", "appinsights", "loggerInformation.json"), {"loggerType": "applicationInsights"})
    _json(os.path.join(base, "diagnostics", "applicationinsights", "diagnosticInformation.json"),
          {"loggerId": "/loggers/appinsights", "metrics": True})
    products = [f"team-{p}" for p in range(max(1, apis // 50))]
    members: dict[str, list[str]] = {p: [] for p in products}
    for a in range(apis):
        api = f"api-{a:05d}"
        llm = rnd.random() < llm_share
        adir = os.path.join(base, "apis", api)
        _json(os.path.join(adir, "apiInformation.json"), {
            "displayName": f"API {a}", "path": api, "subscriptionRequired": True,
            "serviceUrl": f"https://{name}-aoai-0.openai.azure.com/openai" if llm else f"https://backend-{a}.contoso.internal",
        })
        if llm:
            gap = rnd.random()
            metric = "" if gap < 0.1 else '<include-fragment fragment-id="emit-tokens" />'
            if vary and metric and rnd.random() < 0.7:
                metric = _varied_metric(rnd, a)
            _write(os.path.join(adir, "policy.xml"), LLM_API.format(backend=f"aoai-{a % 3}", i=a, metric=metric))
            ops = LLM_OPS
        else:
            text = PLAIN_API
            if vary:
                text = text.replace('calls="100"', f'calls="{rnd.randrange(10, 1000)}"').replace(
                    '"x-api"', f'"x-api-{a}"')
            _write(os.path.join(adir, "policy.xml"), text)
            ops = [f"op-{o}" for o in range(4)]
        files += 1
        for o, op in enumerate(ops):
            drop_base = llm and o == 2 and rnd.random() < 0.1
            base_stmt = "" if drop_base else "<base />"
            text = _varied_operation(rnd, api, op, base_stmt) if vary else OPERATION.format(base=base_stmt)
            _write(os.path.join(adir, "operations", op, "policy.xml"), text)
            files += 1
        members[products[a % len(products)]].append(api)
    for product, apis_in in members.items():
        pdir = os.path.join(base, "products", product)
        _json(os.path.join(pdir, "productInformation.json"), {"displayName": product, "subscriptionRequired": True})
        _write(os.path.join(pdir, "apis.json"), json.dumps([{"name": a} for a in apis_in]))
        _write(os.path.join(pdir, "policy.xml"), OPERATION.format(base="<base />"))
        files += 1
    return files


def write_estate(root: str, apis: int, services: int = 1, seed: int = 7, vary: bool = False) -> int:
    per = apis // services
    return sum(write_service(root, f"svc-{s:02d}", per, seed, vary=vary) for s in range(services))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("root")
    ap.add_argument("--apis", type=int, default=1000)
    ap.add_argument("--services", type=int, default=1)
    ap.add_argument("--vary", action="store_true", help="no two policy texts alike (realistic input)")
    args = ap.parse_args()
    print(write_estate(args.root, args.apis, args.services, vary=args.vary), "policy files")
