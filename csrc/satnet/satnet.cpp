// Registration of the mixing-method operators (torch.ops.nesy.satnet_*); the kernels live in
// csrc/satnet/cpu/. Python wrappers: lib/nesy/satnet/layer.py.
#include <torch/library.h>

#include "cpu/mix_kernel.h"

TORCH_LIBRARY_FRAGMENT(nesy, m) {
  m.def(
      "satnet_mix_forward(Tensor S, Tensor V0, Tensor is_output, Tensor order, int max_iter, float eps)"
      " -> Tensor[]");
  m.def(
      "satnet_mix_backward(Tensor S, Tensor V, Tensor is_output, Tensor order, Tensor info, Tensor state,"
      " Tensor C, Tensor grad, float prox_lam) -> (Tensor, Tensor)");
  m.def(
      "satnet_stock_layout_forward(Tensor S, Tensor V0, Tensor is_output, Tensor order, int max_iter,"
      " float eps) -> (Tensor, Tensor, Tensor)");  // V, info, gnrm
  m.def(
      "satnet_stock_layout_backward(Tensor S, Tensor V, Tensor is_output, Tensor order, Tensor info,"
      " Tensor gnrm, Tensor grad, float prox_lam) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(nesy, CPU, m) {
  m.impl("satnet_mix_forward", &nesy::satnet::mix_forward_cpu);
  m.impl("satnet_mix_backward", &nesy::satnet::mix_backward_cpu);
  m.impl("satnet_stock_layout_forward", &nesy::satnet::stock_layout_forward_cpu);
  m.impl("satnet_stock_layout_backward", &nesy::satnet::stock_layout_backward_cpu);
}
