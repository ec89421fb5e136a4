// AIGC_ASSERT: aborts with file:line on a programmer error. Never for data:
// anything that comes from a file or a user is checked and reported as Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AIGC_ASSERT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
