"""The raw compiled ops (torch.ops.nesy.*) check their arguments: forged sizes, ranks, counts and
bin values get a RuntimeError naming the argument, never a crash, an out-of-bounds read or a
huge allocation. Each case runs in a subprocess, so a crash fails the test instead of the run."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from raw_op_setup import PRELUDE  # valid arguments of every op (tests/raw_op_setup.py)

pytestmark = pytest.mark.integration

CASES = {
    "forged rank": ("info2 = info.clone(); info2[0, 1] = 10**9\n"
                    "ops.satnet_mix_backward(S, V, is_output, order, info2, state, kept, C, grad, 0.01)", "rank"),
    "negative rank": ("info2 = info.clone(); info2[1, 1] = -1\n"
                      "ops.satnet_mix_backward(S, V, is_output, order, info2, state, kept, C, grad, 0.01)", "rank"),
    "forged kept index": ("k2 = kept.clone(); k2[0, 0] = 10**6\n"
                          "ops.satnet_mix_backward(S, V, is_output, order, info, state, k2, C, grad, 0.01)", "kept"),
    "rank beyond min(N, k)": ("ops.satnet_mix_backward(S[:2].contiguous(), V[:, :2].contiguous(), is_output[:, :2].contiguous(), "
                              "torch.arange(2), info, state[:, :16].contiguous(), kept[:, :2].contiguous(), C[:2, :2].contiguous(), "
                              "grad[:, :2].contiguous(), 0.01)", "rank"),
    "forged sweeps": ("info2 = info.clone(); info2[0, 0] = 2**40\n"
                      "ops.satnet_mix_backward(S, V, is_output, order, info2, state, kept, C, grad, 0.01)", "sweeps"),
    "stock layout forged sweeps": (
        "V2, info2, g = ops.satnet_stock_layout_forward(S, V0, is_output, order, 10, 1e-4); info2[0, 0] = -5\n"
        "ops.satnet_stock_layout_backward(S, V2, is_output, order, info2, g, grad, 0.01)", "sweeps"),
    "huge max_iter": ("ops.satnet_mix_forward(S, V0, is_output, order, 2**40, 1e-4)", "max_iter"),
    "negative prox_lam": ("ops.satnet_stock_layout_forward(S, V0, is_output, order, 10, 1e-4, -1.0)", "prox_lam"),
    "bins beyond the hyperplanes": ("b2 = bins.clone(); b2[0, 0] = 200\nfidex(bins=b2)", "bins values must be in"),
    "sample bins beyond": ("s2 = sb.clone(); s2[0, 0] = 9\nfidex(sb=s2)", "sample_bins values must be in"),
    "negative int16 bins": ("ops.rules_cumcounts(torch.full((3, 20), -3, dtype=torch.int16), preds, 2, 3)",
                            "bins values must be in"),
    "huge max_iterations": ("fidex(max_iterations=2**40)", "max_iterations"),
    "zero threads": ("fidex(n_threads=0)", "n_threads"),
    "dropout above one": ("fidex(dropout=1.5)", "dropout"),
    "negative sample ids": ("fidex(ids=torch.tensor([0, -4]))", "sample_ids"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_raw_op_refuses_forged_arguments(name):
    call, message = CASES[name]
    script = PRELUDE + textwrap.dedent(f"""
try:
{textwrap.indent(call, "    ")}
except RuntimeError as error:
    print("REFUSED", str(error).splitlines()[0])
else:
    print("ACCEPTED")
""")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"crashed ({proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stdout.startswith("REFUSED"), proc.stdout
    assert message in proc.stdout, proc.stdout


def test_the_prelude_itself_is_accepted():
    proc = subprocess.run([sys.executable, "-c", PRELUDE + "fidex()\n"
                           "ops.satnet_mix_backward(S, V, is_output, order, info, state, kept, C, grad, 0.01)\nprint('OK')"],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "OK", proc.stderr[-2000:]


def test_the_compiled_module_imports_before_torch():
    """`import nesy._C` first (it links against torch's libraries, which only importing torch loads)."""
    proc = subprocess.run([sys.executable, "-c", "import nesy._C\nimport torch\nprint(torch.ops.nesy.fidex is not None)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]
