// Element-wise add, mul, scale, add-bias: scalar references and dispatch.
#include "kernels/elementwise.h"

#include "core/cpu_features.h"
#include "kernels/elementwise_isa.h"
#include "kernels/parallel_chunks.h"

namespace aigc {

void elementwise_add_ref(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void elementwise_mul_ref(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

void elementwise_scale_ref(float* out, const float* in, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * s;
}

void add_bias_ref(float* out, const float* in, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t i = 0; i < n; ++i) out[r * n + i] = in[r * n + i] + bias[i];
  }
}

void elementwise_add(float* out, const float* a, const float* b, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: elementwise_add_avx512(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kAvx2: elementwise_add_avx2(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kScalar: elementwise_add_ref(out + begin, a + begin, b + begin, end - begin); break;
    }
  });
}

void elementwise_mul(float* out, const float* a, const float* b, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: elementwise_mul_avx512(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kAvx2: elementwise_mul_avx2(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kScalar: elementwise_mul_ref(out + begin, a + begin, b + begin, end - begin); break;
    }
  });
}

void elementwise_scale(float* out, const float* in, float s, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: elementwise_scale_avx512(out + begin, in + begin, s, end - begin); break;
      case Isa::kAvx2: elementwise_scale_avx2(out + begin, in + begin, s, end - begin); break;
      case Isa::kScalar: elementwise_scale_ref(out + begin, in + begin, s, end - begin); break;
    }
  });
}

void add_bias(float* out, const float* in, const float* bias, int64_t n_rows, int64_t n) {
  const Isa isa = active_isa();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n_rows; ++r) {
    switch (isa) {
      case Isa::kAvx512: elementwise_add_avx512(out + r * n, in + r * n, bias, n); break;
      case Isa::kAvx2: elementwise_add_avx2(out + r * n, in + r * n, bias, n); break;
      case Isa::kScalar: add_bias_ref(out + r * n, in + r * n, bias, 1, n); break;
    }
  }
}

}  // namespace aigc
