// aigc: the command-line program. Subcommands are registered here and
// implemented one per file (inspect.cpp, bench_kernels.cpp, ...).
#include <cstdio>

int main() {
  std::puts("aigc");
  return 0;
}
