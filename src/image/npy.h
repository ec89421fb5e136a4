// .npy files (NumPy's array format), version 1.0, 2.0 and 3.0 headers, C order:
// the initial latent of `aigc image --noise FILE.npy` and test data.
//
// read_npy converts little-endian float32 ('<f4'), float64 ('<f8') and
// uint8 ('|u1') to float32; write_npy writes '<f4', version 1.0 (2.0 when
// the header needs it). Hostile input: the header dictionary is parsed
// strictly, the shape product is checked for overflow and against the file
// size; errors name the file and the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace aigc {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // C order, product of shape elements
};

Result<NpyArray> read_npy(const std::string& path);
Result<NpyArray> parse_npy(const uint8_t* data, size_t size, const std::string& name);
Status write_npy(const std::string& path, const NpyArray& array);
Result<std::vector<uint8_t>> encode_npy(const NpyArray& array);

}  // namespace aigc
