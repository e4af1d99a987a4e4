"""Fuzz suite: generated inputs to the parameter validator, the query language (Python and its
JavaScript twin must agree on values *and* errors), the data layer (corrupted, truncated and
concurrent loads in temporary caches) and the raw compiled ops (in a subprocess, so a crash is
a failure). Every generated input must end in a result or in the area's one clear error.

``NESY_FUZZ_EXAMPLES`` scales the number of examples (default: a few seconds per area, for
``make test``; e.g. ``NESY_FUZZ_EXAMPLES=2000`` for a nightly run).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from nesy import params
from nesy.book import runner
from nesy.logic.query import MAX_DEPTH, QueryError, Semantics, evaluate
from raw_op_setup import PRELUDE  # valid arguments of every raw op (tests/raw_op_setup.py)

EXAMPLES = int(os.environ.get("NESY_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")

# --------------------------------------------------------------------------- parameters

ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("chapter", runner.chapters())
@FUZZ
@given(data=st.data())
def test_validator_accepts_or_names_the_parameter(chapter, data):
    """Any value for any parameter: valid and normalised, or one ParameterError naming it."""
    values = params.load_profile(chapter, "default")
    name = data.draw(st.sampled_from(sorted(set(values) - {"profile"})))
    value = data.draw(ANY_VALUE)
    try:
        checked = params.validate(chapter, {**values, name: value})
    except params.ParameterError as error:
        assert repr(name) in str(error)
    else:  # accepted: it satisfies the schema and survives a second validation unchanged
        assert params.validate(chapter, checked) == checked


@FUZZ
@given(text=st.text(max_size=40))
def test_set_values_parse_or_name_the_option(text):
    try:
        params.parse_value("x", text)
    except params.ParameterError as error:
        assert str(error).startswith("YAML error in --set x=")


# --------------------------------------------------------------------------- query language

PREDS, FUNCS = ["p", "q", "Crash"], ["f", "g"]
ATOMS = ["p(Im)", "q(e(Im))", "Crash()", "f(Im) < t", "0.5 >= g(Im)", "p(Im) > 0.2", "f(Im) <= -1e-3"]
CONNECTIVES = [" and ", " or ", " -> ", " <-> ", " ∧ ", " ∨ ", " ⇒ ", " | "]
JUNK = ["(", ")", "not ", "¬", "!", "Im", "e(", ",", ":", "<", "1.2.3", "😀", "$", "where ", "forall ", "  "]


def _formula(depth):
    leaf = st.sampled_from(ATOMS)
    if depth == 0:
        return leaf
    sub = _formula(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(CONNECTIVES), sub).map("".join),
        sub.map(lambda f: f"not ({f})"),
        sub.map(lambda f: f"({f})"),
    )


def _mutate(text, edits):
    for position, junk, cut in edits:
        i = position % (len(text) + 1)
        text = text[:i] + junk + text[i + cut:]
    return text


QUERY = st.builds(
    lambda quant, guard, body, edits, deep: _mutate(f"{quant} Im{guard}: {body}", edits) + deep,
    st.sampled_from(["forall", "exists", "∀", "∃"]),
    st.one_of(st.just(""), _formula(1).map(lambda g: f" where {g}")),
    _formula(3),
    st.lists(st.tuples(st.integers(0, 200), st.sampled_from(JUNK), st.integers(0, 3)), max_size=2),
    st.sampled_from(["", "", "", " and " + "(" * (MAX_DEPTH + 5) + "p(Im)" + ")" * (MAX_DEPTH + 5),
                     " and " + "not " * (MAX_DEPTH + 3) + "p(Im)"]),
)

OUTPUTS = {name: [round((i * 0.137 + k * 0.31) % 1.0, 3) for i in range(40)] for k, name in enumerate(PREDS + FUNCS)}
PARAM_VALUES = st.sampled_from([0.3, 0.5, float("nan"), float("inf"), True, "0.3"])


def _tagged(value):
    if isinstance(value, float) and not math.isfinite(value):
        return {"$number": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    return value


def _python(case):
    try:
        result = evaluate(case["query"], {k: torch.tensor(v, dtype=torch.float64) for k, v in OUTPUTS.items()},
                          params=case["params"], semantics=Semantics(), predicates=PREDS, functions=FUNCS)
    except QueryError as error:
        return {"error": "QueryError", "message": str(error), "position": error.position}
    except ValueError as error:
        return {"error": "Error", "message": str(error)}
    value = result.value.item() if hasattr(result.value, "item") else result.value
    return {"value": None if math.isnan(value) else value, "canonical": str(result.parsed)}


@pytest.mark.integration
@pytest.mark.skipif(NODE is None, reason="node is not on PATH: the JavaScript twin cannot be run")
@settings(max_examples=max(2, EXAMPLES // 20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(st.tuples(QUERY, PARAM_VALUES), min_size=40, max_size=40))
def test_python_and_javascript_agree_on_generated_queries(queries, tmp_path_factory):
    cases = [{"query": q, "params": {"t": t}, "semantics": {}} for q, t in queries]
    spec = {"outputs": OUTPUTS, "predicates": PREDS, "functions": FUNCS,
            "cases": [{**c, "params": {"t": _tagged(c["params"]["t"])}} for c in cases]}
    path = tmp_path_factory.mktemp("fuzz") / "cases.json"
    path.write_text(json.dumps(spec, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    proc = subprocess.run([NODE, str(ROOT / "tests" / "js" / "run_queries.mjs"),
                           str(ROOT / "lib" / "nesy" / "logic" / "query" / "index.mjs"), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for case, js in zip(cases, json.loads(proc.stdout)["cases"]):
        py = _python(case)
        where = repr(case["query"]), case["params"]
        if "error" in py:
            assert js.get("error") == py["error"], where
            assert js["message"] == py["message"], where
            assert js.get("position") == py.get("position", js.get("position")), where
        else:
            assert "error" not in js, (where, js)
            assert js["canonical"] == py["canonical"], where
            assert (js["value"] is None) == (py["value"] is None), where
            if py["value"] is not None:
                assert js["value"] == pytest.approx(py["value"], abs=1e-6), where


# --------------------------------------------------------------------------- data layer


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NESY_PROGRESS", "0")
    return tmp_path / "cache"


_ENTRY = iter(range(10**9))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4))
def test_a_corrupted_or_truncated_cache_entry_is_rebuilt(cache, cut, flips):
    """(The cache folder is shared by the examples; each example uses an entry of its own.)"""
    from nesy import data

    name, calls = f"entry{next(_ENTRY)}-v1", []

    def build():
        calls.append(1)
        return {"x": torch.arange(300, dtype=torch.float32)}

    data.cached_tensors("fuzz", name, build)
    path = cache / "fuzz" / f"{name}.pt"
    original = path.read_bytes()
    blob = bytearray(original)
    for where, xor in flips:
        blob[where % len(blob)] ^= xor
    blob = bytes(blob[: len(blob) - (cut % len(blob))])
    path.write_bytes(blob)
    assert torch.equal(data.cached_tensors("fuzz", name, build)["x"], torch.arange(300, dtype=torch.float32))
    assert len(calls) == (2 if blob != original else 1)  # (two flips of one byte may cancel out)


@FUZZ
@given(cut=st.integers(1, 400), flip=st.integers(0, 400))
def test_a_truncated_or_corrupted_archive_fails_cleanly(tmp_path_factory, cut, flip):
    """A mirror archive that does not match its pin is refused; nothing half-unpacked is left."""
    import hashlib
    import io
    import tarfile

    import yaml

    from nesy import data
    from nesy.data import DataError

    root = tmp_path_factory.mktemp("arch")
    (root / "mirror" / "toy").mkdir(parents=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for i in range(5):
            blob = bytes([i]) * 300
            info = tarfile.TarInfo(f"train/{i}.bin")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    good = buffer.getvalue()
    bad = bytearray(good[: max(1, len(good) - cut)])
    bad[flip % len(bad)] ^= 0x5A
    (root / "mirror" / "toy" / "toy.tar.gz").write_bytes(bytes(bad))
    registry = root / "registry.yaml"
    registry.write_text(yaml.safe_dump({"datasets": {"toy": {"files": {"toy.tar.gz": {
        "mirror": {"path": "toy/toy.tar.gz", "sha256": hashlib.sha256(good).hexdigest()}}}}}}))
    env = {"NESY_DATA_REGISTRY": str(registry), "NESY_DATA_MIRROR": str(root / "mirror"),
           "NESY_DATA_CACHE": str(root / "cache"), "NESY_PROGRESS": "0", "NESY_DATA_OFFLINE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with pytest.raises(DataError):
            data.unpack_archive("toy", "toy.tar.gz")
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    left = [p.name for p in (root / "cache").rglob("*")] if (root / "cache").exists() else []
    assert not any(name.endswith((".part", ".stale")) for name in left), left
    assert not (root / "cache" / "toy" / "toy").exists()  # no half-unpacked folder


# --------------------------------------------------------------------------- raw ops

_RAW_FUZZ = PRELUDE + """
import json, random, sys
rng = random.Random(int(sys.argv[1]))
torch.manual_seed(int(sys.argv[1]))
VALID = {  # one valid call per op: the fuzz perturbs one or two of its arguments
    "rules_bins": [x, h],
    "rules_cumcounts": [bins, preds, 2, 3],
    "fidex": [bins, preds, cum, sb, preds[:2].clone(), torch.arange(2), 0, 5, 2, True, 3, 1.0, 0.75, 0.5, 0.5, 1],
    "satnet_mix_forward": [S, V0, is_output, order, 10, 1e-4, 0.01],
    "satnet_mix_backward": [S, V, is_output, order, info, state, kept, C, torch.ones_like(V), 0.01],
    "satnet_stock_layout_forward": [S, V0, is_output, order, 10, 1e-4, 0.01],
    "satnet_stock_layout_backward": [S, V2, is_output, order, info2, gnrm, torch.ones_like(V2), 0.01],
}
SPECIAL = [0, -1, 1, 2, 3, 255, 256, 32767, -32768, 2**31, 2**40, float("nan"), float("inf"), -0.5, 1e30]
def perturb(a):
    if isinstance(a, bool):
        return not a
    if isinstance(a, (int, float)):
        return rng.choice(SPECIAL)
    choice = rng.randrange(5)
    if choice == 0 and a.numel():  # one element set to an extreme value (as the dtype allows)
        b = a.clone()
        v = rng.choice(SPECIAL)
        try:
            b.view(-1)[rng.randrange(b.numel())] = v
        except (RuntimeError, OverflowError):
            return b
        return b
    if choice == 1:  # another dtype
        return a.to(rng.choice([torch.float64, torch.float32, torch.int64, torch.int32, torch.uint8, torch.int16, torch.bool]))
    if choice == 2 and a.dim():  # a dimension grown or shrunk
        d = rng.randrange(a.dim())
        size = max(0, a.shape[d] + rng.choice([-1, 1, 5]))
        return torch.zeros(*a.shape[:d], size, *a.shape[d + 1:], dtype=a.dtype)
    if choice == 3:  # one dimension more or less
        return a.unsqueeze(0) if rng.random() < 0.5 or a.dim() == 0 else a.reshape(-1)
    return a.t() if a.dim() == 2 else a.flip(0) if a.dim() else a
counts = {name: {"tried": 0, "refused": 0} for name in VALID}
for _ in range(int(sys.argv[2])):
    name = rng.choice(sorted(VALID))
    args = list(VALID[name])
    for i in rng.sample(range(len(args)), rng.choice([1, 1, 2])):
        args[i] = perturb(args[i])
    counts[name]["tried"] += 1
    try:
        getattr(ops, name)(*args)
    except (RuntimeError, TypeError, ValueError, IndexError, OverflowError):
        counts[name]["refused"] += 1
print(json.dumps(counts))
"""


@pytest.mark.integration
@pytest.mark.parametrize("seed", [0, 1])
def test_raw_ops_never_crash_on_generated_arguments(seed):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_RAW_FUZZ), str(seed), str(max(50, EXAMPLES * 5))],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"crashed ({proc.returncode}): {proc.stderr[-3000:]}"
    counts = json.loads(proc.stdout)
    assert sum(c["tried"] for c in counts.values()) >= 50
