"""The JSON report's encoder writes exactly what `json.dump(indent=2, ensure_ascii=False)` writes."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aoai_audit.report import json_indent

KEYS = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
                   st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)))  # lone surrogates
DOCS = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                                    st.dictionaries(KEYS, inner, max_size=4)), max_leaves=30)


def _ours(doc) -> str:
    out = io.StringIO()
    json_indent.dump(doc, out)
    return out.getvalue()


@given(DOCS)
def test_same_text_as_the_standard_library(doc):
    assert _ours(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


def test_edge_values_and_empty_containers():
    doc = {"a": [], "b": {}, "c": [[], {}, [[]]], "n": [math.nan, math.inf, -math.inf, -0.0, 1e300, 10**40],
           3: "int key", 2.5: "float key", True: "t", None: "none", "ü\n\"\\\u2028": "é\x00\x1f"}
    assert _ours(doc) == json.dumps(doc, indent=2, ensure_ascii=False)
    assert _ours([]) == "[]" and _ours("x") == '"x"'


def test_what_json_refuses_is_refused():
    for bad in ({(1, 2): "tuple key"}, {"a": object()}, [b"bytes"]):
        with pytest.raises(TypeError):
            json.dumps(bad, indent=2)
        with pytest.raises(TypeError):
            _ours(bad)


def test_a_large_document_is_written_in_pieces_with_the_same_bytes():
    doc = {"findings": [{"rule_id": f"TM{i:03}", "evidence": [str(i)] * 3, "money": None} for i in range(20000)]}
    writes = []

    class Sink:
        def write(self, text):
            writes.append(text)

    json_indent.dump(doc, Sink())
    assert len(writes) > 1 and "".join(writes) == json.dumps(doc, indent=2, ensure_ascii=False)
