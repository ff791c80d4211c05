"""The bundled example's usage as raw telemetry, and the files the printed queries turn it into.

fixtures/example/usage.csv and fixtures/example/platform/*.json are not written by hand: they are what
`aoai-audit kql` prints for the example estate, run over these raw rows (the token-metrics query through the
fake Log Analytics evaluator, exported as the portal's CSV; the `az rest` commands through the fake ARM, saved
as the CLI prints them). test_usage_live.py checks the committed files are exactly that; to rebuild them after
changing the data or the queries: `python3 tests/example_usage.py` from the repository root.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shlex
from typing import Any
from urllib.parse import parse_qs, urlsplit

B = 1_000_000_000
ACCOUNTS = {"contoso-aoai-eus": "eastus", "contoso-aoai-weu": "westeurope"}
DEPLOYMENTS = {
    "contoso-aoai-eus": (("gpt-4o", "gpt-4o", "2024-11-20", "GlobalStandard"),
                         ("embeddings", "text-embedding-3-small", "1", "Standard")),
    "contoso-aoai-weu": (("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "GlobalStandard"),
                         ("realtime", "gpt-4o-realtime-preview", "2024-12-17", "GlobalStandard")),
}
# (day, API, product, dimension values, prompt, cached, completion): what the token-metric policies emitted
METRICS = (
    ("2026-11-01", "chat-completions", "team-marketing", {"Team": "marketing"}, 1.2 * B, 0.2 * B, 0.3 * B),
    ("2026-11-01", "chat-completions", "team-research", {"Team": "research"}, 0.8 * B, 0, 0.2 * B),
    ("2026-11-01", "chat-completions", "team-marketing", {"Team": "unknown"}, 0.4 * B, 0, 0.1 * B),
    ("2026-11-01", "chat-completions", "", {}, 1.0 * B, 0, 0.25 * B),
    ("2026-11-01", "hr-copilot", "team-research", {"Caller App": "hr-portal-app"}, 2.0 * B, 0, 0.5 * B),
    ("2026-11-02", "chat-completions", "team-marketing", {"Team": "marketing"}, 1.0 * B, 0, 0.4 * B),
    ("2026-11-02", "chat-completions", "team-research", {"Team": "research"}, 0.5 * B, 0, 0.1 * B),
    ("2026-11-02", "assistants-legacy", "team-research", {}, 0.6 * B, 0, 0.15 * B),
    ("2026-11-02", "hr-copilot", "team-research", {"Caller App": "hr-portal-app"}, 1.0 * B, 0, 0.2 * B),
)
# (account, day, deployment, prompt, completion): what the accounts served (platform metrics)
PLATFORM = (
    ("contoso-aoai-eus", "2026-11-01", "gpt-4o", 3.6 * B, 0.9 * B),
    ("contoso-aoai-eus", "2026-11-02", "gpt-4o", 1.8 * B, 0.45 * B),
    ("contoso-aoai-eus", "2026-11-02", "embeddings", 5.0 * B, 0),
    ("contoso-aoai-weu", "2026-11-01", "gpt-4o-mini", 1.9 * B, 0.5 * B),
    ("contoso-aoai-weu", "2026-11-02", "gpt-4o-mini", 1.5 * B, 0.4 * B),
    ("contoso-aoai-weu", "2026-11-02", "realtime", 0.1 * B, 0.05 * B),
)
WINDOW = ("2026-11-01", "2026-11-02")


def app_metrics() -> list[dict[str, Any]]:
    rows = []
    for day, api, product, dims, prompt, cached, completion in METRICS:
        at = dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.timezone.utc)
        props = {"API ID": api, "Product ID": product, **dims}
        for name, value in (("Prompt Tokens", prompt), ("Cached Tokens", cached), ("Completion Tokens", completion),
                            ("Total Tokens", prompt + completion)):
            if value:
                rows.append({"TimeGenerated": at, "Name": name, "Sum": float(value), "Properties": props})
    return rows


def platform_points(account: str) -> list[dict[str, Any]]:
    models = {d: (m, v) for d, m, v, _sku in DEPLOYMENTS[account]}
    return [{"day": day, "deployment": dep, "model": models[dep][0], "version": models[dep][1],
             "input": int(prompt), "output": int(completion)}
            for acc, day, dep, prompt, completion in PLATFORM if acc == account]


def load(srv, tenant_accounts: dict[str, str], appinsights: str) -> None:
    """Serve the example's raw telemetry from the fake (accounts: name → resource id)."""
    srv.log_tables[appinsights.lower()] = {"AppMetrics": app_metrics()}
    for name, rid in tenant_accounts.items():
        srv.platform[rid.lower()] = platform_points(name)


def portal_csv(table: dict[str, Any]) -> str:
    """A Log Analytics result as the portal's "Export to CSV (all columns)" writes it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c["name"] for c in table["columns"]])
    for row in table["rows"]:
        writer.writerow(["" if v is None else (int(v) if isinstance(v, float) and v.is_integer() else v) for v in row])
    return out.getvalue()


def run_printed(srv, printed: str) -> dict[str, str]:
    """Run what `aoai-audit kql` printed against the fake: file name → exported content."""
    from fakearm import answer_log_query

    files: dict[str, str] = {}
    for n, block in enumerate(printed.split("// ---- query ")[1:], 1):
        lines = block.split("\n")
        target = lines[1].removeprefix("// run against ")
        text = "\n".join(lines[2:]).split("\n\n")[0]
        table = answer_log_query(srv, {"query": text}, target)["tables"][0]
        files["usage.csv" if n == 1 else f"usage-{n}.csv"] = portal_csv(table)
    for line in printed.splitlines():
        if line.startswith("az "):
            argv = shlex.split(line)
            for page, body in enumerate(az_rest(srv, argv[argv.index("--url") + 1])):
                url = urlsplit(argv[argv.index("--url") + 1])
                account = url.path.split("/accounts/")[1].split("/")[0]
                kind = "deployments" if url.path.endswith("/deployments") else "metrics"
                files[f"platform/{account}.{kind}{'' if not page else f'.{page + 1}'}.json"] = \
                    json.dumps(body, indent=1) + "\n"
    return files


def az_rest(srv, url: str) -> list[dict[str, Any]]:
    """`az rest --method get --url URL` against the fake: the body, and each further page the user fetches the
    same way when the answer carries a nextLink (az rest does not follow it)."""
    pages = []
    while url:
        parts = urlsplit(url)
        status, _h, body = srv.route({"method": "GET", "path": parts.path, "query": parse_qs(parts.query),
                                      "headers": {}})
        assert status == 200, body
        pages.append(body)
        url = body.get("nextLink")
    return pages


if __name__ == "__main__":  # rebuild the committed example files
    import os
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from test_usage_live import printed_example_files

    for name, content in printed_example_files().items():
        path = os.path.join("fixtures", "example", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        print(f"wrote {path}")
