"""Token prices per model, version, deployment type and region: a dated table, a user override, a refresh.

Prices are Decimal per 1M tokens so that money is exact to the cent. A usage row with no matching price is
reported (KQ004), never priced at zero.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .ptu import PtuPrice, PtuPriceError, ptu_from_data, ptu_from_retail_items, ptu_to_data
from .skus import SKUS

RETAIL_PRICES_URL = "https://prices.azure.com/api/retail/prices"
MILLION = Decimal(1_000_000)

# Deployment SKU (ARM `sku.name` of a deployment) → the price table's deployment type (skus.py says how each
# SKU is billed). "batch" is global batch; data zone batch has rows of its own. Provisioned SKUs are priced per
# PTU-hour (ptu.py), never per token: their token rows stay unpriced.
SKU_TYPES = {name: cls.price_type or "provisioned" for name, cls in SKUS.items()}
TYPE_ALIASES = {"dz": "datazone", "dzone": "datazone", "glbl": "global", "gl": "global", "regnl": "regional",
                "rgnl": "regional", "globalbatch": "batch", "datazonebatch": "datazone-batch"}  # meter abbreviations
TYPES = ("global", "datazone", "regional", "batch", "datazone-batch", "provisioned", "developer")
BATCH_TYPES = ("batch", "datazone-batch")


class PriceFileError(Exception):
    pass


def deployment_type(sku_or_type: str) -> str:
    low = re.sub(r"[\s_-]", "", (sku_or_type or "").lower())
    return SKU_TYPES.get(low) or TYPE_ALIASES.get(low, low)


def version_key(version: str) -> str:
    """'2024-08-06', '20240806' and the meters' '0806' all name the same model version."""
    digits = re.sub(r"\D", "", version or "")
    return digits[-4:] if len(digits) >= 4 else digits


def model_key(model: str) -> str:
    return re.sub(r"[\s_]+", "-", (model or "").strip().lower())


@dataclass(frozen=True, slots=True)
class Price:
    model: str
    version: str  # MMDD, or "" for any version
    deployment_type: str
    region: str  # arm region name, or "*" for any
    input: Decimal  # per 1M tokens
    output: Decimal
    cached_input: Decimal | None = None
    source: str = ""

    def cost(self, input_tokens: Decimal | int, cached_input_tokens: Decimal | int, output_tokens: Decimal | int
             ) -> Decimal:
        """Money for these tokens; token counts may be fractional (a row split across models or consumers)."""
        cached = min(cached_input_tokens, input_tokens)
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        return ((input_tokens - cached) * self.input + cached * cached_rate + output_tokens * self.output) / MILLION


@dataclass(frozen=True)
class PriceTable:
    prices: tuple[Price, ...]
    currency: str = "USD"
    as_of: str = ""
    source: str = ""
    ptu: tuple[PtuPrice, ...] = ()  # PTU-hour prices of provisioned deployments (ptu.py)
    complete: bool = False  # `replace_shipped: true`: this table alone prices the run
    origin: str = ""  # the file it was read from

    def find(self, model: str, version: str, dtype: str, region: str) -> Price | None:
        m, v, t, r = model_key(model), version_key(version), deployment_type(dtype), (region or "").lower()
        best: tuple[int, Price] | None = None
        for p in self.prices:
            if p.model != m or p.deployment_type != t:
                continue
            if p.version and v and p.version != v:
                continue
            if p.region not in ("*", r):
                continue
            score = (2 if p.version and p.version == v else 0) + (1 if p.region == r else 0)
            if best is None or score > best[0]:
                best = (score, p)
        return best[1] if best else None

    def overridden_by(self, other: PriceTable) -> PriceTable:
        """Negotiated prices first: an override entry hides the shipped entry for the same key. One currency per
        run: an override in another currency than the prices it would sit beside is refused (relabelling the
        shipped USD prices as EUR gave finance wrong amounts), unless it replaces them (`replace_shipped`)."""
        if other.complete:
            return other
        if other.currency.upper() != self.currency.upper():
            raise PriceFileError(
                f"{other.origin or other.source}: prices in {other.currency}, but {self.origin or self.source} prices "
                f"the other models in {self.currency}: one currency per run. Give prices in {self.currency}, or set "
                "`replace_shipped: true` so that this file alone prices the run (models it lacks are unpriced, KQ004)")
        keys = {(p.model, p.version, p.deployment_type, p.region) for p in other.prices}
        kept = tuple(p for p in self.prices if (p.model, p.version, p.deployment_type, p.region) not in keys)
        ptu_keys = {(p.scope, p.region) for p in other.ptu}
        ptu = other.ptu + tuple(p for p in self.ptu if (p.scope, p.region) not in ptu_keys)
        return PriceTable(other.prices + kept, other.currency or self.currency, self.as_of,
                          f"{other.source} over {self.source}", ptu)


def _decimal(value: Any, where: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise PriceFileError(f"{where}: not a number: {value!r}") from None
    if d < 0 or not d.is_finite():
        raise PriceFileError(f"{where}: a price must be a non-negative number, got {value!r}")
    return d


def _plain(price: Decimal) -> str:
    """A price as positional digits ("10", "0.0025"): `normalize()` alone writes 1E+1."""
    return format(price.normalize(), "f")


def table_from_data(data: Any, origin: str) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("prices"), list):
        raise PriceFileError(f"{origin}: expected a mapping with a `prices` list")
    per = str(data.get("per", "1M")).upper()
    scale = {"1M": Decimal(1), "1K": Decimal(1000)}.get(per)
    if scale is None:
        raise PriceFileError(f"{origin}: `per` must be 1M or 1K, got {per!r}")
    out = []
    for i, item in enumerate(data["prices"]):
        where = f"{origin}: prices[{i}]"
        if not isinstance(item, dict) or "model" not in item:
            raise PriceFileError(f"{where}: needs at least model, input and output")
        dtype = deployment_type(str(item.get("deployment_type", "global")))
        if dtype not in TYPES:
            raise PriceFileError(f"{where}: deployment_type must be one of {', '.join(TYPES)}, got {dtype!r}")
        cached = item.get("cached_input")
        out.append(Price(
            model=model_key(str(item["model"])),
            version=version_key(str(item.get("version", ""))),
            deployment_type=dtype,
            region=str(item.get("region", "*")).lower() or "*",
            input=_decimal(item.get("input"), f"{where}.input") * scale,
            output=_decimal(item.get("output"), f"{where}.output") * scale,
            cached_input=None if cached is None else _decimal(cached, f"{where}.cached_input") * scale,
            source=str(item.get("source", "")),
        ))
    try:
        ptu = ptu_from_data(data.get("ptu"), origin)
    except PtuPriceError as exc:
        raise PriceFileError(str(exc)) from None
    currency = str(data.get("currency", "USD")).strip().upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise PriceFileError(f"{origin}: currency must be an ISO 4217 code such as USD or EUR, got {currency[:20]!r}")
    complete = data.get("replace_shipped", False)
    if not isinstance(complete, bool):
        raise PriceFileError(f"{origin}: replace_shipped must be true or false, got {complete!r}"[:200])
    return PriceTable(tuple(out), currency, str(data.get("as_of", "")), str(data.get("source", origin)), ptu,
                      complete=complete, origin=origin)


def load_prices(path: str) -> PriceTable:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PriceFileError(f"{path}: cannot read price file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PriceFileError(f"{path}: price file is not UTF-8 text (byte {exc.start})") from None
    import yaml  # here, not at start-up (benchmarks/bench_startup.py)

    from ..bounded_yaml import load_yaml

    try:  # the one bounded YAML reader: a 600-byte alias bomb here took 2.7 GB through the unbounded loader
        data = json.loads(text) if path.endswith(".json") else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        line = getattr(exc, "lineno", None) or (getattr(getattr(exc, "problem_mark", None), "line", -1) + 1)
        problem = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise PriceFileError(f"{path}{f':{line}' if line and line > 0 else ''}: cannot parse price file: {problem}"
                             ) from None
    except (ValueError, RecursionError) as exc:  # a number past Python's 4,300-digit limit, nesting too deep
        from ..json_input import describe, where

        problem, line = describe(exc, text)
        raise PriceFileError(f"{where(path, line)}: cannot parse price file: {problem}") from None
    return table_from_data(data, path)


def shipped_prices() -> PriceTable:
    from importlib import resources  # here: importing it (and tempfile, zipfile) costs every start ~8 ms

    text = resources.files("aoai_audit").joinpath("data/prices.json").read_text(encoding="utf-8")
    return table_from_data(json.loads(text), "aoai_audit/data/prices.json")


# ------------------------------------------------------------------------- refresh from the Retail Prices API

# Meter names as the Retail Prices API really returns them (skuName, or meterName with a " Tokens" suffix):
# "gpt-4o-0806-Inp-glbl", "gpt 4o 1120 cached Inp glbl", "gpt 4.1 mini Outp glbl", "o3 mini 0131 input glbl",
# "o3 Inpt DZone 1M Tokens", "gpt 4.5 0227 Inp regnl", "gpt-4-8K-Batch-Inp-glbl Tokens", "text embedding 3 small
# DZ" (embeddings: one direction, input only). Abbreviations seen: Inp/Inpt/Input/In, Outp/Outpt/Output/Out/opt,
# cached/cchd/cd, glbl/global/Gl, DZone/DZ/Data Zone, regnl/rgnl/regional.
_DIRECTIONS = {"inp": "input", "inpt": "input", "input": "input", "in": "input",
               "outp": "output", "outpt": "output", "output": "output", "out": "output", "opt": "output"}
_TYPES = {"glbl": "global", "global": "global", "gl": "global", "dzone": "datazone", "dz": "datazone",
          "datazone": "datazone", "regnl": "regional", "rgnl": "regional", "regional": "regional"}
_CACHED = {"cached", "cchd", "cd"}
_EMBEDDING = re.compile(r"(^|-)(text-)?embedding(-|$)|(^|-)ada(-|$)")
# meters that are not per-token text prices of a model: audio, image, realtime, fine-tuning, hosting, PTU
_NOT_TOKENS = {"aud", "audio", "img", "image", "realtime", "rt", "trscb", "transcribe", "tts", "ft", "training",
               "hosting", "grader", "ptu", "provisioned", "pp", "l", "lng", "long"}


def parse_meter(name: str) -> tuple[str, str, str, str, bool] | None:
    """A Retail Prices meter name → (model, version MMDD or "", deployment type, input/output, cached), or
    None when it is not a per-token price of a model (PTU hours, audio, fine-tuning, characters ...)."""
    norm = re.sub(r"[\s_]+", "-", name.strip().lower())
    norm = re.sub(r"-(1[km]-)?tokens?$", "", norm).replace("data-zone", "datazone")
    parts = [p for p in norm.split("-") if p]
    if len(parts) < 2 or parts[-1] not in _TYPES:
        return None
    dtype = _TYPES[parts.pop()]
    direction = _DIRECTIONS.get(parts[-1]) if parts else None
    if direction:
        parts.pop()
    cached = bool(parts) and parts[-1] in _CACHED
    if cached:
        parts.pop()
    if parts and parts[0] in _CACHED:
        cached = True
        parts.pop(0)
    if any(p in _NOT_TOKENS for p in parts):
        return None
    if "batch" in parts:  # "gpt 4.1 Batch Inp glbl" (global batch), "... Batch Outp Data Zone" (data zone batch)
        parts.remove("batch")
        batch = {"global": "batch", "datazone": "datazone-batch"}.get(dtype)
        if batch is None:
            return None  # no regional batch deployment type exists: not a price this build can place
        dtype = batch
    version = ""
    if len(parts) > 1 and re.fullmatch(r"\d{4}", parts[-1]):
        version = parts.pop()
    if not parts or not re.match(r"[a-z]", parts[0]):
        return None
    model = "-".join(parts)
    if direction is None:
        if not _EMBEDDING.search(model):
            return None
        direction = "input"  # embeddings are metered one way: input tokens only
    return model, version, dtype, direction, cached


def table_from_retail_items(items: list[dict[str, Any]], as_of: str) -> PriceTable:
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for item in items:
        if item.get("type") not in (None, "Consumption"):
            continue
        meter = str(item.get("skuName") or item.get("meterName") or "")
        parsed = parse_meter(meter)
        if parsed is None:
            continue
        model, version, dtype, direction, cached = parsed
        unit = str(item.get("unitOfMeasure", "1K")).upper().split()[0]
        per_million = {"1K": Decimal(1000), "1M": Decimal(1)}.get(unit)
        if per_million is None:
            continue
        try:
            price = Decimal(str(item.get("retailPrice", 0))) * per_million
        except InvalidOperation:
            continue
        region = str(item.get("armRegionName") or "*").lower()
        key = (model, version, dtype, region)
        field = "cached_input" if cached and direction == "input" else direction
        entry = merged.setdefault(key, {"meters": []})
        entry[field] = price
        entry["meters"].append(meter)
    prices = []
    for (model, version, dtype, region), p in sorted(merged.items()):
        if "input" in p and "output" not in p and _EMBEDDING.search(model):
            p["output"] = Decimal(0)  # one-direction meter: output tokens are not billed
        if "input" in p and "output" in p:
            prices.append(Price(model, version, dtype, region, p["input"], p["output"], p.get("cached_input"),
                                f"Retail Prices API {as_of}: " + ", ".join(sorted(set(p["meters"])))))
    return PriceTable(tuple(prices), "USD", as_of, f"Azure Retail Prices API, {as_of}",
                      ptu_from_retail_items(items, as_of))


RETAIL_FILTERS = (
    "serviceName eq 'Foundry Models' and priceType eq 'Consumption'",
    "serviceName eq 'Cognitive Services' and priceType eq 'Consumption'",
)


class RefreshError(Exception):
    """The Retail Prices API answered something a price table cannot be built from (one line, exit 2)."""


def _origin(url: str) -> tuple[str, str, int | None]:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _allowed_endpoint(endpoint: str) -> None:
    scheme, host, _port = _origin(endpoint)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if not (scheme == "https" or (scheme == "http" and loopback)):
        raise RefreshError(f"{endpoint}: the Retail Prices endpoint must be an https URL (http only on loopback)")


def fetch_retail_items(endpoint: str = RETAIL_PRICES_URL, timeout: float = 30, max_pages: int = 500) -> list[dict]:
    """GET every page of the public (anonymous) Retail Prices API for the LLM services. `NextPageLink` is
    followed only on the endpoint's own scheme and host (https://prices.azure.com by default): a link to
    another host, or to file://, is refused, never opened."""
    import urllib.parse
    import urllib.request  # here, not at start-up: only `prices refresh` goes online

    _allowed_endpoint(endpoint)
    home = _origin(endpoint)

    class SameHost(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if _origin(newurl) != home:
                raise RefreshError(f"the Retail Prices API redirected off its own host ({newurl[:200]}): not followed")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(SameHost)
    items: list[dict] = []
    for flt in RETAIL_FILTERS:
        url: str | None = f"{endpoint}?{urllib.parse.urlencode({'$filter': flt})}"
        pages, seen = 0, set()
        while url and pages < max_pages:
            if _origin(url) != home:
                raise RefreshError(f"the Retail Prices API sent a NextPageLink off its own host ({url[:200]}): "
                                   "not followed")
            if url in seen:
                raise RefreshError(f"the Retail Prices API sent the same NextPageLink twice ({url[:200]})")
            seen.add(url)
            with opener.open(url, timeout=timeout) as resp:
                page = json.loads(resp.read(64 * 2**20))
            if not isinstance(page, dict):
                raise RefreshError(f"{endpoint}: the Retail Prices API answered something other than a page")
            items.extend(i for i in page.get("Items") or [] if isinstance(i, dict))
            link = page.get("NextPageLink")
            url = link if isinstance(link, str) and link else None
            pages += 1
    return items


def table_to_data(table: PriceTable) -> dict[str, Any]:
    return {
        "schema": 1,
        "currency": table.currency,
        "as_of": table.as_of,
        "source": table.source,
        "per": "1M",
        "prices": [
            {"model": p.model, "version": p.version, "deployment_type": p.deployment_type, "region": p.region,
             "input": _plain(p.input), "cached_input": None if p.cached_input is None else _plain(p.cached_input),
             "output": _plain(p.output)}
            for p in table.prices
        ],
        "ptu": ptu_to_data(table.ptu),
    }


def refresh(output: str, endpoint: str = RETAIL_PRICES_URL) -> PriceTable:
    """Rebuild the table; an empty result is an error and writes nothing (a table of no prices would price
    every token as unpriced without saying why)."""
    table = table_from_retail_items(fetch_retail_items(endpoint), dt.date.today().isoformat())
    if not table.prices:
        raise RefreshError(f"{endpoint}: no Azure OpenAI token price in the Retail Prices API answer; {output} "
                           "not written")
    Path(output).write_text(json.dumps(table_to_data(table), indent=1) + "\n", encoding="utf-8")
    return table
