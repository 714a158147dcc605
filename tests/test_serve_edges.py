"""Property test of every kind's HTTP API: whatever a client puts in any field of any JSON
route (NaN, Infinity, numbers out of range, deep nesting, lone surrogates, in a known or an
unknown field), the real server answers 422 naming that field: never a 500, never the input
sent back. Each project is generated from templates/ as they are now, trained on its sample
in an environment of its own dependencies, and served by `python -m <package> serve`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMPLATES
from current_templates import current_bundle, templates_now  # noqa: F401 (fixtures)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from served import request, serving, trained_project

from mlscaffold import catalog

PACKAGE = "served"
MAX_DEPTH = 32  # serve.py's: arrays and objects inside each other a request may have


def _kinds() -> list:
    """The kinds with a JSON route (uploads' strictness is tested in every project's own
    tests/test_serve.py, on a toy upload route)."""
    rows = []
    for kind in catalog.available():
        steps = TEMPLATES / kind.name / "src" / "{{ package_name }}" / "steps.py.jinja"
        text = steps.read_text(encoding="utf-8")
        if text.count("(RequestModel)") <= text.count(": list[Upload]"):  # uploads only
            continue
        marks = [pytest.mark.heavy] if kind.heavy else []
        if kind.heavy and not os.environ.get("MLSCAFFOLD_FULL_MATRIX"):
            marks.append(pytest.mark.skip(reason="heavy kind: set MLSCAFFOLD_FULL_MATRIX=1"))
        rows.append(pytest.param(kind.name, marks=marks, id=kind.name))
    return rows


def _lone_surrogate(parts: tuple[str, int, str]) -> str:
    """A JSON string holding one lone surrogate between two texts (no surrogates of their
    own: a pair written by json.dumps stays a pair, the one in the middle stays alone)."""
    before, code, after = parts
    return json.dumps(before)[:-1] + f"\\u{code:04x}" + json.dumps(after)[1:]


def _nested(parts: tuple[int, str]) -> str:
    depth, kind = parts
    return "[" * depth + "1" + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth


# JSON text that Python's json reads but no request may hold, and whether it is nesting
EDGES = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(lambda t: (t, False)),
    st.tuples(
        st.sampled_from(["", "-"]), st.sampled_from(["1", "9.99", "2.5"]), st.integers(309, 10**7)
    ).map(lambda t: (f"{t[0]}{t[1]}e{t[2]}", False)),
    st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1)).map(
        lambda n: (str(n), False)
    ),
    st.integers(20, 5000).map(lambda n: ("9" * n, False)),
    st.tuples(st.text(max_size=5), st.integers(0xD800, 0xDFFF), st.text(max_size=5)).map(
        lambda t: (_lone_surrogate(t), False)
    ),
    st.tuples(st.text(max_size=3), st.integers(0xD800, 0xDFFF)).map(
        lambda t: ("{" + _lone_surrogate((t[0], t[1], "")) + ": 1}", False)
    ),
    st.tuples(st.integers(MAX_DEPTH + 1, 3000), st.sampled_from(["[", "{"])).map(
        lambda t: (_nested(t), True)
    ),
)
HOLE = "\u0000edge\u0000"


def _places(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every field of a request (a list's first item stands for the others), and an unknown
    field beside each object's fields."""
    if isinstance(value, dict):
        yield (*path, "nosuch")
        for key, member in value.items():
            yield (*path, key)
            yield from _places(member, (*path, key))
    elif isinstance(value, list) and value:
        yield from _places(value[0], (*path, 0))


def _put(value: Any, path: tuple) -> Any:
    if not path:
        return HOLE
    head, *rest = path
    if isinstance(value, list):
        return [_put(value[0], tuple(rest)), *value[1:]]
    return {**value, head: _put(value.get(head), tuple(rest))}


@pytest.mark.parametrize("kind", _kinds())
def test_no_json_a_request_may_not_hold_is_a_500(
    templates_now: Path,  # noqa: F811 (a fixture)
    tmp_path: Path,
    kind: str,
) -> None:
    root, python = trained_project(tmp_path / "project", kind, PACKAGE)
    log = tmp_path / "server.log"
    with serving(python, root, PACKAGE, log) as port:
        status, _, spec = request(port, "GET", "/openapi.json")
        assert status == 200
        places = []
        for path, operations in json.loads(spec)["paths"].items():
            content = operations.get("post", {}).get("requestBody", {}).get("content", {})
            if "application/json" in content:
                good = content["application/json"]["examples"]["sample"]["value"]
                status, _, _ = request(port, "POST", path, json.dumps(good).encode())
                assert status == 200, path
                places += [(path, good, place) for place in dict.fromkeys(_places(good))]
        if not places:
            pytest.skip(f"{kind} has no JSON route")

        @settings(
            max_examples=int(os.environ.get("MLSCAFFOLD_FUZZ_EXAMPLES", "150")),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.sampled_from(places), EDGES)
        def check(where: tuple[str, Any, tuple], edge: tuple[str, bool]) -> None:
            route, good, place = where
            text, nested = edge
            body = json.dumps(_put(good, place)).replace(json.dumps(HOLE), text)
            status, _, answer = request(port, "POST", route, body.encode())
            assert status == 422, (route, place, text[:80], answer[:300])
            detail = json.loads(answer)["detail"]
            loc = detail[0]["loc"]
            expected = ["body", *place]
            if nested:  # where it went too deep: inside the field, or the body at worst
                assert loc[: len(expected)] == expected[: len(loc)], (place, loc)
            else:
                assert loc == expected, (route, place, text[:80], loc)
            assert set(detail[0]) == {"type", "loc", "msg"}, detail

        check()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
