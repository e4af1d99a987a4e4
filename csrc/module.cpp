// The compiled module nesy._C. Importing it registers the project's operators, which live
// in csrc/<topic>/ (registration files use TORCH_LIBRARY_FRAGMENT(nesy, m), kernels in
// csrc/<topic>/cpu/), under torch.ops.nesy.*. The library loads them through
// lib/nesy/kernels.py, which also registers their fake (meta) kernels and autograd.
#include <torch/extension.h>

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.doc() = "nesy compiled operators (registered under torch.ops.nesy)";
}
