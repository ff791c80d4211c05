"""Every regular expression that sees input stays linear in it: each risky one is run on its worst case.

Python's `re` backtracks; possessive and atomic forms need Python 3.11, and requires-python is 3.10, so the
patterns are bounded (`{0,300}`), made unambiguous (no `\\s*X?\\s*`), or replaced by a scanner. The worst
cases below are sized so that the former patterns needed from minutes to years (a cubic `key-key-...` name,
an exponential run of comments before a root element); they all run in one child process that must end.
A hang is a failure, not a slow test: the bound is an order of magnitude above what a linear pass needs on a
loaded machine. `benchmarks/regex_worst_case.py` triages new patterns by growth on doubling.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

from conftest import ROOT

# Each input-facing regex call site, counted per module (file name, so a move between folders keeps it). A new
# or changed pattern means a new row here and, if it can backtrack over input, a worst case in WORST.
AUDITED = {
    "analysis.py": 9, "scan.py": 1, "options.py": 1, "config.py": 1, "discovery.py": 2, "engine.py": 1,
    "exposure.py": 1, "findings.py": 1, "logs.py": 2, "literals.py": 1, "rawxml.py": 6, "wellformed.py": 8,
    "secrets.py": 26, "places.py": 4, "shapes.py": 8, "escape.py": 4, "chain.py": 1, "classify.py": 14, "rules.py": 2,
    "string.py": 1, "syntax.py": 2, "values.py": 1, "sniff.py": 1, "files.py": 1, "pacing.py": 1,
    "policy_files.py": 1, "kql.py": 1, "prices.py": 8, "_support.py": 1, "json_input.py": 1,
    "st001_usage_parse_ignores_streaming.py": 5, "st002_streamed_usage_estimated.py": 6,
    "tm005_inconsistent_dimensions.py": 1, "tm010_unset_variable_dimension.py": 1,
    # literal-led alternations and anchored words (main, issue 26 and 24): nothing to backtrack over
    "ai_services.py": 1, "owners.py": 1, "ptu.py": 2, "skus.py": 1,
    # aoai-audit fix (issue 27): a tag name after `<`, `<base\s*/>`, a name fullmatch: each start scanned once
    "rawtext.py": 2, "conventions.py": 1,
    # the JSON path line index (one unrolled string pattern, as files.py's) and a copied metric's context reads and
    # legacy end tag: each start scanned once
    "json_lines.py": 1, "metric_copy.py": 2,
}
_SITE = re.compile(r"re\.(?:compile|search|match|sub|findall|finditer|fullmatch|split)\(")

# name, then the statement run in the child (after WORST_SETUP); N is the size of the hostile run.
WORST_SETUP = """
import secrets as rnd
from aoai_audit.policy import secrets as S, rawxml, places
from aoai_audit.policy.literals import replace_literals
from aoai_audit.resolve import classify
from aoai_audit import analysis, logs, json_input
from aoai_audit.sources import files, sniff
from aoai_audit.sources.arm import syntax as arm_syntax
from aoai_audit.sources.arm.functions import string as arm_functions
from aoai_audit.usage import files as usage_files
from aoai_audit.checks import st001_usage_parse_ignores_streaming as st001, tm010_unset_variable_dimension as tm010
from aoai_audit.sources import json_lines
from aoai_audit.fix import metric_copy
import io
N = 200_000
"""
WORST = [
    ("credential name: a run of key-key-... (was cubic)", "S.find_secrets('key-' * (N // 4), S.COMMENT_PATTERNS)"),
    ("credential name in an unparsed policy", "S.redact_unparsed('<x name=\"key-' + 'key-' * (N // 4) + '>')"),
    ("credential name: a run of apikey= (form body)", "S.redact('&' + 'apikey' * (N // 6) + '=x')"),
    ("credential element: <key without >", "S.redact_unparsed('<key ' * (N // 5))"),
    ("credential variable: <set-variable without >", "S.redact_unparsed('<set-variable name=\"pwd\" ' * (N // 25))"),
    ("40,000 literals found by place, redacted in a 3 MB text",
     "lits = [rnd.token_hex(20) for _ in range(40_000)];"
     "S.redact(''.join(f'<value>{x}</value>' for x in lits), lits)"),
    ("4,000 short literals found by place", "lits = [f'p{i}' for i in range(4_000)];"
     "replace_literals(' '.join(lits) * 10, set(lits))"),
    ("high-entropy tokens, each with a URL look-back", "S.redact(' '.join(rnd.token_urlsafe(24) for _ in range(N // 30)))"),
    ("policy root after 10,000 comments (was exponential)", "sniff.policy_root('<!-- x -->\\n' * 10_000 + '<project/>')"),
    ("named value: {{ then spaces (was cubic)", "classify._NAMED_VALUE.sub('', '{{' + ' ' * N)"),
    ("C# string literal never closed", "classify._CS_LITERAL.findall('\"' + 'a' * N)"),
    ("LLM path: models/ and no colon", "classify.LLM_PATHS.search('/models/' + 'a' * N)"),
    ("header read: generic argument never closed", "analysis._HEADER_READ.findall('Headers.GetValueOrDefault<' * (N // 26))"),
    ("header read: spaces before the call", "analysis._HEADER_READ.findall('Headers.GetValueOrDefault' + ' ' * N)"),
    ("variable read: spaces before the call", "tm010._VAR.findall('Variables.GetValueOrDefault' + ' ' * N)"),
    ("default argument: spaces", "analysis._DEFAULT_ARG.findall('GetValueOrDefault' + ' ' * N)"),
    ("Response.Body.As: spaces (was quadratic)", "st001._BODY_AS_JSON.search('Response' + ' ' * N + 'x')"),
    ("suppression comment with a long rule list", "rawxml._SUPPRESS.search('aoai-audit: ignore ' + 'A' * N)"),
    ("usage column of 20,000 spaces (was quadratic)", "usage_files._key('a' + ' ' * N + 'b')"),
    ("format items never closed (.NET format)", "list(arm_functions._ITEM.finditer('{0:' * (N // 3)))"),
    ("ARM expression of 100,000 arguments (a copy per token)",
     "arm_syntax._tokenize('concat(' + '1,' * (N // 2) + '1)')"),
    ("JSON line index: strings never closed", "list(files._JSON_STRING.finditer('\"' + 'a' * N))"),
    ("JSON path index: a string never closed, then open brackets",
     "json_lines._scan(io.StringIO('\"' + '\\\\a' * (N // 2) + '\\n' + '[' * N + '\\n'), {}, frozenset({'v'}))"),
    ("copied metric: context then spaces, many times",
     "metric_copy._CONTEXT.findall(('context' + ' ' * 1000 + '? x') * (N // 1000))"),
    ("copied metric: end tag then spaces", "metric_copy._END.sub('', '</azure-openai-emit-token-metric' + ' ' * N + '> x')"),
    ("a digit run one short of the limit, many times (each run tried once)",
     "json_input._LONG.search((b'1' * 4300 + b',') * 200)"),
    ("connection-string password never ended", "places.connection_password(';password=' * (N // 10))"),
    ("expression literals, each looking back for its call", "places.expression_literals('@(' + '(\"a\", ' * (N // 6))"),
    ("a secret split by comments, looked for in a long text",
     "places.split_spelling('secret-value').sub('', '<!-- x -->s' * (N // 11))"),
    ("URL userinfo: scheme and host, no colon", "S.redact('https://' + 'a' * N + '@ x://b')"),
    ("log scrubbing: authorization and spaces", "logs.redact_log_text('authorization:' + ' a' * (N // 2))"),
]
CHILD_BOUND = 240  # seconds for every worst case together; the former patterns needed hours for the first one


def test_every_regex_call_site_is_audited():
    found: Counter[str] = Counter()
    for folder in ("auditor", "checks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            n = len(_SITE.findall(path.read_text()))
            if n:
                found[path.name] += n
    assert dict(found) == AUDITED, "a regex was added, changed or moved: audit it and add its worst case to WORST"


def test_worst_cases_end():
    script = WORST_SETUP + "".join(f"print({name!r}, flush=True)\n{stmt}\n" for name, stmt in WORST) + "print('END')\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=CHILD_BOUND)
    assert proc.returncode == 0, proc.stderr[-2000:]
    done = proc.stdout.splitlines()
    assert done[-1] == "END" and len(done) == len(WORST) + 1, done[-3:]


def test_the_rewritten_patterns_still_find_what_they_did():
    from aoai_audit.policy import secrets as S
    from aoai_audit.resolve import classify
    from aoai_audit.sources import sniff

    assert sniff.policy_root('<?xml version="1.0"?>\n<!-- a -->\n<!-- b --> <policies>')
    assert sniff.policy_root("<fragment/>") and not sniff.policy_root("<!-- x --><project/>")
    assert not sniff.policy_root("<policiesx>") and not sniff.policy_root("<!-- never closed <policies>")
    assert [m.group(1).strip() for m in classify._NAMED_VALUE.finditer("a{{ name }}b{x}")] == ["name"]
    hits = S.find_secrets('x.apiKey = "Zx9Qw3Er7Ty1Ui5Op"; cacheKey = "list-of-things-1"', S.COMMENT_PATTERNS)
    assert [h.secret for h in hits] == ["Zx9Qw3Er7Ty1Ui5Op"]
    raw = '<set-header name="api-key" exists-action="override">\n  <value>plain</value></set-header>'
    assert "plain" not in S.redact_unparsed(raw)
