// Image files and conversions (see image_io.h).
#include "image/image_io.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/mapped_file.h"
#include "image/jpeg.h"
#include "image/png.h"

namespace aigc {

Result<Image> decode_image(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits) {
  if (is_png(data, size)) return decode_png(data, size, name, limits);
  if (is_jpeg(data, size)) return decode_jpeg(data, size, name, limits);
  return Status::unsupported(name + ": unknown image format (supported: PNG, JPEG)");
}

Result<Image> load_image(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return decode_image(file.data(), file.size(), path);
}

Status save_png(const std::string& path, const Image& image,
                const std::vector<std::pair<std::string, std::string>>& text_chunks) {
  Result<std::vector<uint8_t>> bytes = encode_png(image, text_chunks);
  if (!bytes.ok()) return Status(bytes.status().code(), path + ": " + bytes.status().message());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::io_error(path + ": cannot create: " + std::strerror(errno));
  const bool written = std::fwrite(bytes->data(), 1, bytes->size(), f) == bytes->size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) return Status::io_error(path + ": write failed: " + std::strerror(errno));
  return {};
}

Result<std::vector<std::pair<std::string, std::string>>> read_png_text(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return decode_png_text(file.data(), file.size(), path);
}

Image to_rgb(const Image& image) {
  if (image.channels == 3) return image;
  Image out{image.width, image.height, 3, {}};
  const size_t n = size_t(image.width) * image.height;
  out.pixels.resize(n * 3);
  const bool gray = image.channels <= 2;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* src = image.pixels.data() + i * image.channels;
    for (int c = 0; c < 3; ++c) out.pixels[3 * i + c] = gray ? src[0] : src[c];
  }
  return out;
}

namespace {

double sinc(double x) {
  if (x == 0) return 1;
  x *= M_PI;
  return std::sin(x) / x;
}

double filter_weight(ResizeFilter filter, double x) {
  x = std::abs(x);
  if (filter == ResizeFilter::kBilinear) return x < 1 ? 1 - x : 0;
  return x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

// Weights of the source samples [first, first + count) for each output sample.
struct Taps {
  std::vector<int> first, count;
  std::vector<double> weights;  // [out_size, max_count]
  int max_count = 0;
};

Taps make_taps(int in_size, int out_size, ResizeFilter filter) {
  const double scale = double(in_size) / out_size;
  const double widen = std::max(1.0, scale);
  const double support = (filter == ResizeFilter::kBilinear ? 1.0 : 3.0) * widen;
  Taps t;
  t.max_count = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out_size));
  t.count.resize(size_t(out_size));
  t.weights.assign(size_t(out_size) * t.max_count, 0.0);
  for (int o = 0; o < out_size; ++o) {
    const double center = (o + 0.5) * scale;
    const int lo = std::max(0, int(center - support + 0.5));
    const int hi = std::min(in_size, int(center + support + 0.5));
    double total = 0;
    double* w = t.weights.data() + size_t(o) * t.max_count;
    const int n = std::min(hi - lo, t.max_count);
    for (int i = 0; i < n; ++i) {
      w[i] = filter_weight(filter, (lo + i - center + 0.5) / widen);
      total += w[i];
    }
    if (total != 0) {
      for (int i = 0; i < n; ++i) w[i] /= total;
    }
    t.first[size_t(o)] = lo;
    t.count[size_t(o)] = n;
  }
  return t;
}

}  // namespace

Result<Image> resize_image(const Image& image, int width, int height, ResizeFilter filter) {
  if (width <= 0 || height <= 0 || width > 65536 || height > 65536 || image.width <= 0 || image.height <= 0 ||
      image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels) {
    return Status::invalid_argument("resize_image: cannot resize a " + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + "x" + std::to_string(image.channels) +
                                    " image to " + std::to_string(width) + "x" + std::to_string(height));
  }
  const int ch = image.channels;
  // Horizontal pass, then vertical pass, each rounded to 8 bits (as PIL does).
  const Taps tx = make_taps(image.width, width, filter), ty = make_taps(image.height, height, filter);
  std::vector<uint8_t> mid(size_t(image.height) * width * ch);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* src = image.pixels.data() + size_t(y) * image.width * ch;
    for (int x = 0; x < width; ++x) {
      const double* w = tx.weights.data() + size_t(x) * tx.max_count;
      for (int c = 0; c < ch; ++c) {
        double acc = 0;
        for (int i = 0; i < tx.count[size_t(x)]; ++i) acc += w[i] * src[size_t(tx.first[size_t(x)] + i) * ch + c];
        mid[(size_t(y) * width + x) * ch + c] = uint8_t(std::clamp(std::lround(acc), 0l, 255l));
      }
    }
  }
  Image out{width, height, ch, std::vector<uint8_t>(size_t(width) * height * ch)};
#pragma omp parallel for schedule(static)
  for (int y = 0; y < height; ++y) {
    const double* w = ty.weights.data() + size_t(y) * ty.max_count;
    for (size_t i = 0; i < size_t(width) * ch; ++i) {
      double acc = 0;
      for (int k = 0; k < ty.count[size_t(y)]; ++k) acc += w[k] * mid[size_t(ty.first[size_t(y)] + k) * width * ch + i];
      out.pixels[size_t(y) * width * ch + i] = uint8_t(std::clamp(std::lround(acc), 0l, 255l));
    }
  }
  return out;
}

std::vector<float> image_to_planar(const Image& image) {
  const Image rgb = to_rgb(image);
  const size_t n = size_t(rgb.width) * rgb.height;
  std::vector<float> out(3 * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < 3; ++c) out[c * n + i] = float(rgb.pixels[3 * i + c]) * (2.0f / 255.0f) - 1.0f;
  }
  return out;
}

Image planar_to_image(const float* planar, int width, int height) {
  Image out{width, height, 3, {}};
  const size_t n = size_t(width) * height;
  out.pixels.resize(3 * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      const float v = std::clamp((planar[c * n + i] + 1.0f) * 0.5f, 0.0f, 1.0f);  // NaN -> 0 below
      out.pixels[3 * i + c] = std::isnan(v) ? 0 : uint8_t(std::lround(v * 255.0f));
    }
  }
  return out;
}

std::vector<float> mask_to_float(const Image& image) {
  const size_t n = size_t(image.width) * image.height;
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = image.pixels.data() + i * image.channels;
    // PIL's L = R * 299/1000 + G * 587/1000 + B * 114/1000 in 16-bit fixed point.
    const int luma = image.channels >= 3 ? (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16 : p[0];
    out[i] = float(luma) / 255.0f;
  }
  return out;
}

}  // namespace aigc
