// Parallel loops of the kernels, on torch's intra-op threads.
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace nesy {

// Runs tasks 0..n-1 on at most `workers` of torch's intra-op threads. at::parallel_for follows
// torch's thread settings (torch.set_num_threads) and rethrows an exception thrown by a task on
// the calling thread, where an OpenMP region would terminate the process; one worker runs on the
// calling thread without waking any other. Tasks take different times, so they are handed out one
// at a time (as OpenMP's schedule(dynamic, 1)). Each worker calls make_worker() once and runs the
// tasks it draws through the function it returns (which may own per-thread scratch).
template <typename MakeWorker>
inline void for_each_task(int64_t n, int64_t workers, const MakeWorker& make_worker) {
  workers = std::max<int64_t>(1, std::min(workers, n));
  std::atomic<int64_t> next{0};
  at::parallel_for(0, workers, 1, [&](int64_t, int64_t) {
    auto task = make_worker();
    for (int64_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) task(i);
  });
}

}  // namespace nesy
