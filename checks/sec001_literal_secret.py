"""SEC001: a credential written into a policy or a plain named value."""

from __future__ import annotations

from aoai_audit.context import AuditContext
from aoai_audit.estate import CARRIES_POLICIES
from aoai_audit.findings import Severity
from aoai_audit.rules import Rule

from . import _refs

RULE = Rule(
    id="SEC001",
    title="Literal secret in a policy",
    severity=Severity.HIGH,
    rationale=(
        "A key, SAS token or connection string written into a policy is readable by everyone who can read the "
        "API Management configuration or the repository it is exported to, cannot be rotated without editing "
        "policies, and lets its holder call the backend around the gateway, where no attribution happens."
    ),
    detection=(
        "Policies are scanned when read, by place and by shape (SECURITY.md lists both). Places: the body and "
        "password of `authentication-certificate`, the password of `authentication-basic`, literal values of "
        "headers, query parameters and variables named like a credential (`api-key`, `api_key`, "
        "`Ocp-Apim-Subscription-Key`, `Authorization`, `x-api-token`, `x-ms-client-key`, ...), `validate-jwt` "
        "signing and decryption keys, `?api-key=`/`?code=`/`?sig=`/`?key=` in URLs, credential fields in JSON "
        "bodies and credential strings in expressions. Shapes: connection-string keys, SAS signatures, JWTs, "
        "bearer and basic credentials, instrumentation keys, provider key formats and high-entropy literals "
        "(32+ hex characters, long random base64), also inside XML comments. A cache key, a rate-limit or quota "
        "counter key, a status code or an identifier is not a credential place and is judged by shape alone. "
        "Named values not marked secret are scanned the same way, and flagged when a credential-like name holds "
        "a plain value. Secrets are redacted before anything is stored; the finding says where."
    ),
    fix="Move the value to a secret named value (ideally backed by Key Vault), or use managed identity.",
    fix_snippet="""<!-- managed identity instead of a key: -->
<authentication-managed-identity resource="https://cognitiveservices.azure.com" />
<!-- or a secret named value: -->
<set-header name="api-key" exists-action="override">
    <value>{{aoai-api-key}}</value>
</set-header>""",
    references=(_refs.NAMED_VALUES, _refs.KEY_VAULT_NAMED_VALUES),
    requires=frozenset({CARRIES_POLICIES}),
)


def check(ctx: AuditContext):
    for resource, policy in ctx.policies():
        if policy.document is None:
            continue
        seen: dict[str, int] = {}
        for hit in policy.document.secrets:
            seen[hit.kind] = seen.get(hit.kind, 0) + 1  # nth of its kind: stable under edits elsewhere
            yield RULE.finding(
                resource,
                f"{policy.origin.scope or 'policy'}: {hit.kind} written into the policy (shown redacted); move it to "
                "a secret named value or Key Vault",
                location=ctx.location(policy.origin, hit.line),
                evidence=[f"{policy.origin.label()}: {hit.excerpt}"],
                key=f"{hit.kind}#{seen[hit.kind]}",
            )
    for service in ctx.estate.services:
        for nv in service.named_values:
            if nv.exposed:
                yield RULE.finding(
                    f"service/{service.name}/namedValues/{nv.name}",
                    f"named value '{nv.display_name}' is not marked secret but holds {nv.exposed} (shown redacted); "
                    "mark it secret or move it to Key Vault",
                    location=ctx.location(nv.origin),
                    key="named-value",
                )
