"""Valid arguments for every raw compiled op (torch.ops.nesy.*), as a script prelude: the raw-op
tests run in subprocesses (a crash fails the test, not the run) and start from these."""

PRELUDE = """
import torch
import nesy._C  # noqa: F401
ops = torch.ops.nesy
torch.manual_seed(0)
N, m, k, B = 6, 4, 3, 2
S = torch.randn(N, m, dtype=torch.float64)
V0 = torch.nn.functional.normalize(torch.randn(B, N, k, dtype=torch.float64), dim=2)
is_output = torch.zeros(B, N, dtype=torch.bool); is_output[:, 3:] = True
order = torch.arange(N)
V, info, state, kept, C = ops.satnet_mix_forward(S, V0, is_output, order, 10, 1e-4)
grad = torch.ones_like(V)
x = torch.rand(20, 3, dtype=torch.float64)
h = torch.tensor([[0.25, 0.5, 0.75]] * 3, dtype=torch.float64)
preds = (x[:, 0] > 0.5).long()
bins = ops.rules_bins(x, h)
cum = ops.rules_cumcounts(bins, preds, 2, 3)
sb = bins.t().contiguous()[:2]
V2, info2, gnrm = ops.satnet_stock_layout_forward(S, V0, is_output, order, 10, 1e-4)
def fidex(bins=bins, cum=cum, sb=sb, ids=torch.arange(2), max_iterations=5, n_threads=1, dropout=0.0):
    return ops.fidex(bins, preds, cum, sb, preds[:2].clone(), ids, 0, max_iterations, 2, True, 3, 1.0, 0.75,
                     dropout, dropout, n_threads)
"""
