// `aigc quantize IN OUT TYPE`: rewrites an F32/F16/BF16 GGUF model with its
// matrices in a quantized type (Q8_0, Q4_0, Q4_K, Q6_K, ...). Metadata is
// copied; 1-D tensors (norms, biases) stay F32; a matrix whose rows are not a
// multiple of the type's block size is kept in its own type (and listed).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "core/threads.h"
#include "formats/gguf.h"

namespace aigc {

namespace {

struct QuantizeOptions {
  std::string in, out, type;
  int threads = 0;
};

// llama.cpp's general.file_type ids (llama_ftype) for the types we write.
int file_type_of(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 11;  // Q3_K_S
    case DType::Q4_K: return 14;  // Q4_K_S
    case DType::Q5_K: return 16;  // Q5_K_S
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return -1;
  }
}

Status quantize(const QuantizeOptions& o) {
  const std::optional<DType> type = dtype_from_name(o.type);
  const DTypeTraits* tr = type ? dtype_traits(*type) : nullptr;
  if (!tr || !tr->from_float || file_type_of(*type) < 0 || *type == DType::Q8_K || *type == DType::Q8_1)
    return Status::invalid_argument("quantize: type '" + o.type +
                                    "' is not a weight type we can write (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, "
                                    "Q5_K, Q6_K, F16, BF16, F32)");
  set_num_threads(o.threads);
  AIGC_ASSIGN_OR_RETURN(GgufFile in, GgufFile::open(o.in));
  GgufWriter w;
  w.set_alignment(in.alignment());
  for (const auto& [key, value] : in.metadata()) {
    if (key == "general.alignment") continue;
    if (key == "general.file_type") continue;
    w.add_value(key, value);
  }
  w.add_uint32("general.file_type", uint32_t(file_type_of(*type)));

  uint64_t bytes_in = 0, bytes_out = 0;
  int kept = 0;
  std::vector<float> rowf;
  for (const GgufTensorInfo& info : in.tensors()) {
    const Tensor& t = info.tensor;
    bytes_in += info.nbytes;
    std::vector<int64_t> shape(t.shape, t.shape + t.n_dims);
    const DTypeTraits* src = dtype_traits(t.dtype);
    const bool matrix = t.n_dims >= 2 && t.cols() % tr->block_size == 0;
    const bool plain_source = t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16;
    if (!matrix || !plain_source) {
      if (t.n_dims >= 2 && plain_source) {
        std::fprintf(stderr, "  %s %s: rows of %lld are not a multiple of %lld, kept as %s\n", info.name.c_str(),
                     t.shape_string().c_str(), static_cast<long long>(t.cols()),
                     static_cast<long long>(tr->block_size), dtype_name(t.dtype));
        ++kept;
      }
      AIGC_RETURN_IF_ERROR(w.add_tensor(info.name, t.dtype, shape, t.data, info.nbytes));
      bytes_out += info.nbytes;
      continue;
    }
    const int64_t rows = t.rows(), cols = t.cols();
    const uint64_t row_out = *dtype_row_bytes(*type, cols);
    std::vector<uint8_t> out(row_out * uint64_t(rows));
#pragma omp parallel
    {
      std::vector<float> buf(static_cast<size_t>(cols));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        src->to_float(static_cast<const uint8_t*>(t.data) + uint64_t(r) * t.row_bytes(), buf.data(), cols);
        tr->from_float(buf.data(), out.data() + uint64_t(r) * row_out, cols);
      }
    }
    AIGC_RETURN_IF_ERROR(w.add_tensor(info.name, *type, shape, out.data(), out.size()));
    bytes_out += out.size();
    std::fprintf(stderr, "\r  %-40s %s -> %s", info.name.c_str(), dtype_name(t.dtype), tr->name);
  }
  std::fprintf(stderr, "\n");
  AIGC_RETURN_IF_ERROR(w.write(o.out));
  std::printf("wrote %s: %.1f MiB -> %.1f MiB (%s)%s\n", o.out.c_str(), bytes_in / 1048576.0, bytes_out / 1048576.0,
              tr->name, kept ? ", some matrices kept unquantized (listed above)" : "");
  return Status();
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* q = app.add_subcommand("quantize", "Write a GGUF model with its matrices quantized (F32/F16/BF16 input)");
  q->add_option("IN", o->in, "input GGUF (F32, F16 or BF16 weights)")->required();
  q->add_option("OUT", o->out, "output GGUF")->required();
  q->add_option("TYPE", o->type, "Q8_0, Q4_0, Q4_K, Q6_K (also Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K)")->required();
  q->add_option("-t,--threads", o->threads, "threads (0 = all cores)");
  q->callback([o] {
    Status s = quantize(*o);
    if (!s.ok()) throw CLI::RuntimeError(print_error(s));
  });
}

}  // namespace aigc
