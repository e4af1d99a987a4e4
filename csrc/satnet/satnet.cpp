// Registration of the mixing-method operators (torch.ops.nesy.satnet_*); the kernels live in
// csrc/satnet/cpu/. Python wrappers: lib/nesy/satnet/function.py; their fake (meta) kernels and
// the forwards' autograd (which calls the backward ops) are registered in lib/nesy/kernels.py.
#include <torch/library.h>

#include "cpu/mix_kernel.h"

namespace {

// The forwards take the backward's prox_lam (unused by the forward itself) so that the
// autograd registered on them finds it among the op's inputs.
void check_prox_lam(double prox_lam) { TORCH_CHECK(prox_lam >= 0, "satnet: prox_lam must be >= 0, got ", prox_lam); }

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> mix_forward(
    const at::Tensor& S, const at::Tensor& V0, const at::Tensor& is_output, const at::Tensor& order, int64_t max_iter,
    double eps, double prox_lam) {
  check_prox_lam(prox_lam);
  return nesy::satnet::mix_forward_cpu(S, V0, is_output, order, max_iter, eps);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> stock_layout_forward(const at::Tensor& S, const at::Tensor& V0,
                                                                    const at::Tensor& is_output,
                                                                    const at::Tensor& order, int64_t max_iter,
                                                                    double eps, double prox_lam) {
  check_prox_lam(prox_lam);
  return nesy::satnet::stock_layout_forward_cpu(S, V0, is_output, order, max_iter, eps);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(nesy, m) {
  m.def(
      "satnet_mix_forward(Tensor S, Tensor V0, Tensor is_output, Tensor order, int max_iter, float eps,"
      " float prox_lam=0.01) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");  // V, info, state, kept, C
  m.def(
      "satnet_mix_backward(Tensor S, Tensor V, Tensor is_output, Tensor order, Tensor info, Tensor state,"
      " Tensor kept, Tensor C, Tensor grad, float prox_lam) -> (Tensor, Tensor)");
  m.def(
      "satnet_stock_layout_forward(Tensor S, Tensor V0, Tensor is_output, Tensor order, int max_iter,"
      " float eps, float prox_lam=0.01) -> (Tensor, Tensor, Tensor)");  // V, info, gnrm
  m.def(
      "satnet_stock_layout_backward(Tensor S, Tensor V, Tensor is_output, Tensor order, Tensor info,"
      " Tensor gnrm, Tensor grad, float prox_lam) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(nesy, CPU, m) {
  m.impl("satnet_mix_forward", &mix_forward);
  m.impl("satnet_mix_backward", &nesy::satnet::mix_backward_cpu);
  m.impl("satnet_stock_layout_forward", &stock_layout_forward);
  m.impl("satnet_stock_layout_backward", &nesy::satnet::stock_layout_backward_cpu);
}
