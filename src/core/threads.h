// Thread count for the CPU kernels (OpenMP). Kernels split work into fixed
// pieces of the output, each computed by one thread in a fixed order, so the
// result is bit-identical whatever the thread count.
#pragma once

namespace aigc {

void set_num_threads(int n);  // n <= 0: all hardware threads
int num_threads();

}  // namespace aigc
