// PNG decoder, encoder and text-chunk reader (see png.h).
#include "image/png.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace aigc {
namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr uint32_t kMaxChunkLength = 0x7fffffffu;
constexpr size_t kMaxTextBytes = size_t(16) << 20;

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

void append_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

std::string chunk_type_name(const uint8_t* type) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const bool printable = type[i] >= 0x20 && type[i] < 0x7f;
    s += printable ? char(type[i]) : '?';
  }
  return s;
}

struct Chunk {
  const uint8_t* type;  // 4 bytes
  const uint8_t* data;
  uint32_t length;
  size_t offset;  // of the length field, for messages
};

bool chunk_is(const Chunk& c, const char* type) { return std::memcmp(c.type, type, 4) == 0; }

// Walks the chunks after the signature, checking lengths and CRCs. Stops
// after IEND; a file without IEND is truncated.
class ChunkReader {
 public:
  ChunkReader(const uint8_t* data, size_t size, const std::string& name) : data_(data), size_(size), name_(name) {}

  Status check_signature() const {
    if (!is_png(data_, size_)) return Status::corruption(name_ + ": not a PNG file (bad signature)");
    return {};
  }

  // Next chunk; `done` set after IEND.
  Result<Chunk> next() {
    if (size_ - pos_ < 12) {
      return Status::corruption(name_ + ": truncated PNG: file ends at byte " + std::to_string(size_) +
                                " before the IEND chunk");
    }
    Chunk c{data_ + pos_ + 4, data_ + pos_ + 8, read_be32(data_ + pos_), pos_};
    const std::string where = name_ + ": chunk '" + chunk_type_name(c.type) + "' at byte " + std::to_string(pos_);
    if (c.length > kMaxChunkLength) return Status::corruption(where + ": length " + std::to_string(c.length) + " is too large");
    if (c.length > size_ - pos_ - 12) {
      return Status::corruption(where + ": length " + std::to_string(c.length) + " runs past the end of the file (" +
                                std::to_string(size_) + " bytes): truncated PNG");
    }
    const uint32_t stored = read_be32(c.data + c.length);
    const uint32_t computed = uint32_t(crc32(0L, c.type, 4 + c.length));
    if (stored != computed) return Status::corruption(where + ": CRC mismatch (corrupt file)");
    pos_ += size_t(12) + c.length;
    return c;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 8;
  const std::string& name_;
};

struct Header {
  uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  int samples() const {  // per pixel, as stored
    switch (color_type) {
      case 0: return 1;
      case 2: return 3;
      case 3: return 1;
      case 4: return 2;
      default: return 4;
    }
  }
  int bits_per_pixel() const { return samples() * bit_depth; }
  // Bytes of one filtered row of `w` pixels, without the filter byte.
  uint64_t row_bytes(uint64_t w) const { return (w * uint64_t(bits_per_pixel()) + 7) / 8; }
};

Status parse_header(const Chunk& c, const std::string& name, const ImageLimits& limits, Header* h) {
  if (!chunk_is(c, "IHDR")) return Status::corruption(name + ": first chunk is '" + chunk_type_name(c.type) + "', not IHDR");
  if (c.length != 13) return Status::corruption(name + ": IHDR length " + std::to_string(c.length) + ", expected 13");
  h->width = read_be32(c.data);
  h->height = read_be32(c.data + 4);
  h->bit_depth = c.data[8];
  h->color_type = c.data[9];
  h->interlace = c.data[12];
  if (h->width == 0 || h->height == 0) {
    return Status::corruption(name + ": IHDR size " + std::to_string(h->width) + "x" + std::to_string(h->height) +
                              " is empty");
  }
  if (h->width > uint32_t(limits.max_dimension) || h->height > uint32_t(limits.max_dimension) ||
      uint64_t(h->width) * h->height > uint64_t(limits.max_pixels)) {
    return Status::out_of_range(name + ": image size " + std::to_string(h->width) + "x" + std::to_string(h->height) +
                                " exceeds the limit (" + std::to_string(limits.max_dimension) + " per side, " +
                                std::to_string(limits.max_pixels) + " pixels)");
  }
  bool depth_ok = false;
  const int d = h->bit_depth;
  switch (h->color_type) {
    case 0: depth_ok = d == 1 || d == 2 || d == 4 || d == 8 || d == 16; break;
    case 3: depth_ok = d == 1 || d == 2 || d == 4 || d == 8; break;
    case 2: case 4: case 6: depth_ok = d == 8 || d == 16; break;
    default:
      return Status::corruption(name + ": IHDR colour type " + std::to_string(h->color_type) + " is invalid");
  }
  if (!depth_ok) {
    return Status::corruption(name + ": IHDR bit depth " + std::to_string(d) + " is invalid for colour type " +
                              std::to_string(h->color_type));
  }
  if (c.data[10] != 0) return Status::corruption(name + ": IHDR compression method " + std::to_string(c.data[10]) + " is invalid");
  if (c.data[11] != 0) return Status::corruption(name + ": IHDR filter method " + std::to_string(c.data[11]) + " is invalid");
  if (h->interlace > 1) return Status::corruption(name + ": IHDR interlace method " + std::to_string(h->interlace) + " is invalid");
  return {};
}

// The Adam7 passes: start and step in x and y. Pass 0 is the whole image
// when the file is not interlaced.
struct Pass {
  int x0, y0, dx, dy;
};
constexpr Pass kWholeImage = {0, 0, 1, 1};
constexpr Pass kAdam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

uint64_t pass_extent(uint64_t size, int start, int step) { return size > uint64_t(start) ? (size - start + step - 1) / step : 0; }

// Inflates a zlib stream made of `pieces` into exactly `expected` bytes.
// The buffer grows only as data arrives, so a tiny file announcing a huge
// image allocates little before it is found short.
Status inflate_exact(const std::vector<std::pair<const uint8_t*, size_t>>& pieces, uint64_t expected,
                     const std::string& what, std::vector<uint8_t>* out) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Status::io_error(what + ": zlib inflateInit failed");
  out->clear();
  size_t produced = 0;
  bool stream_end = false;
  int rc = Z_OK;
  for (const auto& [data, size] : pieces) {
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = uInt(size);
    while (zs.avail_in > 0 && produced < expected && !stream_end) {
      if (produced == out->size()) {
        const uint64_t grown = std::max<uint64_t>(uint64_t(out->size()) * 2, 1 << 16);
        out->resize(size_t(std::min(grown, expected)));
      }
      zs.next_out = out->data() + produced;
      zs.avail_out = uInt(std::min<size_t>(out->size() - produced, 1u << 30));
      const uInt before = zs.avail_out;
      rc = inflate(&zs, Z_NO_FLUSH);
      produced += before - zs.avail_out;
      if (rc == Z_STREAM_END) stream_end = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    }
    if ((rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) || produced >= expected || stream_end) break;
  }
  const std::string zmsg = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
    return Status::corruption(what + ": corrupt compressed data (zlib: " + (zmsg.empty() ? std::to_string(rc) : zmsg) + ")");
  }
  if (produced < expected) {
    return Status::corruption(what + ": compressed data ends after " + std::to_string(produced) + " of " +
                              std::to_string(expected) + " bytes (truncated)");
  }
  return {};
}

int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Undoes the filter of one row in place. `prior` is the previous
// reconstructed row of the same pass (zeros for the first).
Status unfilter_row(int filter, uint8_t* row, const uint8_t* prior, size_t n, size_t bpp) {
  switch (filter) {
    case 0: break;
    case 1: for (size_t i = bpp; i < n; ++i) row[i] = uint8_t(row[i] + row[i - bpp]); break;
    case 2: for (size_t i = 0; i < n; ++i) row[i] = uint8_t(row[i] + prior[i]); break;
    case 3:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0;
        row[i] = uint8_t(row[i] + ((left + prior[i]) >> 1));
      }
      break;
    case 4:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0, upleft = i >= bpp ? prior[i - bpp] : 0;
        row[i] = uint8_t(row[i] + paeth(left, prior[i], upleft));
      }
      break;
    default: return Status::corruption("row filter type " + std::to_string(filter) + " is invalid");
  }
  return {};
}

struct Palette {
  std::array<uint8_t, 256 * 4> rgba{};
  int size = 0;
  bool has_alpha = false;
};

// Transparency key of gray/RGB images (tRNS), at the file's bit depth.
struct ColorKey {
  bool present = false;
  uint16_t value[3] = {0, 0, 0};
};

// Sample `i` of a row at `depth` bits.
uint32_t sample_at(const uint8_t* row, uint64_t i, int depth) {
  switch (depth) {
    case 16: return (uint32_t(row[2 * i]) << 8) | row[2 * i + 1];
    case 8: return row[i];
    default: {
      const uint64_t bit = i * depth;
      return (row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1);
    }
  }
}

uint8_t to_8bit(uint32_t v, int depth) {
  switch (depth) {
    case 16: return uint8_t(v >> 8);
    case 8: return uint8_t(v);
    default: return uint8_t(v * 255 / ((1u << depth) - 1));
  }
}

}  // namespace

bool is_png(const uint8_t* data, size_t size) { return size >= 8 && std::memcmp(data, kSignature, 8) == 0; }

Result<Image> decode_png(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits) {
  ChunkReader reader(data, size, name);
  AIGC_RETURN_IF_ERROR(reader.check_signature());
  AIGC_ASSIGN_OR_RETURN(Chunk first, reader.next());
  Header h;
  AIGC_RETURN_IF_ERROR(parse_header(first, name, limits, &h));

  Palette palette;
  ColorKey key;
  std::vector<std::pair<const uint8_t*, size_t>> idat;
  bool idat_done = false;
  for (;;) {
    AIGC_ASSIGN_OR_RETURN(Chunk c, reader.next());
    if (chunk_is(c, "IEND")) break;
    if (chunk_is(c, "IHDR")) return Status::corruption(name + ": second IHDR chunk");
    if (chunk_is(c, "IDAT")) {
      if (idat_done) return Status::corruption(name + ": IDAT chunks are not consecutive");
      if (c.length > 0) idat.emplace_back(c.data, c.length);
      continue;
    }
    if (!idat.empty()) idat_done = true;
    if (chunk_is(c, "PLTE")) {
      if (c.length % 3 != 0 || c.length == 0 || c.length > 768) {
        return Status::corruption(name + ": PLTE length " + std::to_string(c.length) + " is not 3..768 and a multiple of 3");
      }
      palette.size = int(c.length / 3);
      for (int i = 0; i < palette.size; ++i) {
        for (int k = 0; k < 3; ++k) palette.rgba[4 * i + k] = c.data[3 * i + k];
        palette.rgba[4 * i + 3] = 255;
      }
    } else if (chunk_is(c, "tRNS")) {
      if (h.color_type == 3) {
        if (c.length > uint32_t(palette.size)) {
          return Status::corruption(name + ": tRNS has " + std::to_string(c.length) + " entries, the palette " +
                                    std::to_string(palette.size));
        }
        for (uint32_t i = 0; i < c.length; ++i) palette.rgba[4 * i + 3] = c.data[i];
        palette.has_alpha = c.length > 0;
      } else if (h.color_type == 0 || h.color_type == 2) {
        const uint32_t n = h.color_type == 0 ? 1 : 3;
        if (c.length != 2 * n) return Status::corruption(name + ": tRNS length " + std::to_string(c.length) + " is invalid");
        key.present = true;
        for (uint32_t k = 0; k < n; ++k) key.value[k] = uint16_t((c.data[2 * k] << 8) | c.data[2 * k + 1]);
      }  // tRNS is not allowed with an alpha channel; ignored as libpng does.
    } else if ((c.type[0] & 0x20) == 0) {
      return Status::unsupported(name + ": unknown critical chunk '" + chunk_type_name(c.type) + "'");
    }
  }
  if (idat.empty()) return Status::corruption(name + ": no image data (IDAT chunk)");
  if (h.color_type == 3 && palette.size == 0) return Status::corruption(name + ": palette image without a PLTE chunk");

  // Size of the inflated data: each row of each pass has a filter byte.
  const int n_passes = h.interlace ? 7 : 1;
  const Pass* passes = h.interlace ? kAdam7 : &kWholeImage;
  uint64_t expected = 0;
  for (int p = 0; p < n_passes; ++p) {
    const uint64_t pw = pass_extent(h.width, passes[p].x0, passes[p].dx);
    const uint64_t ph = pass_extent(h.height, passes[p].y0, passes[p].dy);
    if (pw > 0 && ph > 0) expected += ph * (1 + h.row_bytes(pw));
  }
  std::vector<uint8_t> raw;
  AIGC_RETURN_IF_ERROR(inflate_exact(idat, expected, name + ": image data", &raw));

  Image img;
  img.width = int(h.width);
  img.height = int(h.height);
  const bool gray = h.color_type == 0 || h.color_type == 4;
  const bool alpha = h.color_type == 4 || h.color_type == 6 || (h.color_type == 3 && palette.has_alpha) || key.present;
  img.channels = (gray ? 1 : 3) + (alpha ? 1 : 0);
  img.pixels.resize(size_t(h.width) * h.height * img.channels);

  const size_t bpp = size_t(std::max(1, h.bits_per_pixel() / 8));
  const int n_samples = h.samples();
  std::vector<uint8_t> prior;
  size_t offset = 0;
  for (int p = 0; p < n_passes; ++p) {
    const Pass& pass = passes[p];
    const uint64_t pw = pass_extent(h.width, pass.x0, pass.dx);
    const uint64_t ph = pass_extent(h.height, pass.y0, pass.dy);
    if (pw == 0 || ph == 0) continue;
    const size_t n = size_t(h.row_bytes(pw));
    prior.assign(n, 0);
    for (uint64_t py = 0; py < ph; ++py) {
      uint8_t* row = raw.data() + offset + 1;
      Status s = unfilter_row(raw[offset], row, prior.data(), n, bpp);
      if (!s.ok()) {
        return Status::corruption(name + ": pass " + std::to_string(p) + " row " + std::to_string(py) + ": " + s.message());
      }
      offset += 1 + n;
      std::memcpy(prior.data(), row, n);
      const uint64_t y = pass.y0 + py * pass.dy;
      for (uint64_t px = 0; px < pw; ++px) {
        const uint64_t x = pass.x0 + px * pass.dx;
        uint8_t* out = img.pixels.data() + (y * h.width + x) * img.channels;
        if (h.color_type == 3) {
          const uint32_t index = sample_at(row, px, h.bit_depth);
          if (index >= uint32_t(palette.size)) {
            return Status::corruption(name + ": palette index " + std::to_string(index) + " at pixel (" +
                                      std::to_string(x) + ", " + std::to_string(y) + ") is beyond the palette (" +
                                      std::to_string(palette.size) + " entries)");
          }
          std::memcpy(out, &palette.rgba[4 * index], size_t(img.channels));
          continue;
        }
        bool matches_key = key.present;
        for (int k = 0; k < n_samples; ++k) {
          const uint32_t v = sample_at(row, px * n_samples + k, h.bit_depth);
          out[k] = to_8bit(v, h.bit_depth);
          if (k < 3 && matches_key && v != key.value[k]) matches_key = false;
        }
        if (key.present) out[n_samples] = matches_key ? 0 : 255;
      }
    }
  }
  return img;
}

Result<TextChunks> decode_png_text(const uint8_t* data, size_t size, const std::string& name) {
  ChunkReader reader(data, size, name);
  AIGC_RETURN_IF_ERROR(reader.check_signature());
  TextChunks out;
  for (;;) {
    AIGC_ASSIGN_OR_RETURN(Chunk c, reader.next());
    if (chunk_is(c, "IEND")) break;
    const bool text = chunk_is(c, "tEXt"), ztext = chunk_is(c, "zTXt"), itext = chunk_is(c, "iTXt");
    if (!text && !ztext && !itext) continue;
    const std::string where = name + ": " + chunk_type_name(c.type) + " chunk at byte " + std::to_string(c.offset);
    const uint8_t* end = c.data + c.length;
    const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(c.data, 0, c.length));
    if (nul == nullptr || nul == c.data || nul - c.data > 79) return Status::corruption(where + ": keyword is not 1-79 bytes");
    std::string keyword;
    for (const uint8_t* p = c.data; p < nul; ++p) {  // Latin-1 to UTF-8
      if (*p < 0x80) keyword += char(*p);
      else keyword += {char(0xc0 | (*p >> 6)), char(0x80 | (*p & 0x3f))};
    }
    const uint8_t* body = nul + 1;
    bool compressed = ztext;
    bool latin1 = !itext;
    if (ztext) {
      if (body >= end || *body != 0) return Status::corruption(where + ": unknown compression method");
      ++body;
    } else if (itext) {
      if (end - body < 2) return Status::corruption(where + ": truncated header");
      compressed = body[0] != 0;
      if (compressed && body[1] != 0) return Status::corruption(where + ": unknown compression method");
      body += 2;
      for (int field = 0; field < 2; ++field) {  // language tag, translated keyword
        const uint8_t* z = static_cast<const uint8_t*>(std::memchr(body, 0, size_t(end - body)));
        if (z == nullptr) return Status::corruption(where + ": truncated header");
        body = z + 1;
      }
    }
    std::vector<uint8_t> inflated;
    const uint8_t* text_begin = body;
    size_t text_size = size_t(end - body);
    if (compressed) {
      // The inflated size is unknown: inflate up to the cap, then check it ended.
      z_stream zs{};
      if (inflateInit(&zs) != Z_OK) return Status::io_error(where + ": zlib inflateInit failed");
      zs.next_in = const_cast<Bytef*>(body);
      zs.avail_in = uInt(end - body);
      int rc = Z_OK;
      while (rc == Z_OK) {
        if (inflated.size() >= kMaxTextBytes) break;
        const size_t have = size_t(zs.total_out);
        inflated.resize(std::min(kMaxTextBytes, std::max<size_t>(4096, have * 2)));
        zs.next_out = inflated.data() + have;
        zs.avail_out = uInt(inflated.size() - have);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR && zs.avail_out > 0) break;  // input exhausted
        if (rc == Z_BUF_ERROR) rc = Z_OK;
      }
      inflated.resize(size_t(zs.total_out));
      inflateEnd(&zs);
      if (rc != Z_STREAM_END) {
        return Status::corruption(where + ": compressed text is corrupt, truncated or over " +
                                  std::to_string(kMaxTextBytes) + " bytes");
      }
      text_begin = inflated.data();
      text_size = inflated.size();
    }
    std::string value;
    if (latin1) {
      for (size_t i = 0; i < text_size; ++i) {
        const uint8_t b = text_begin[i];
        if (b < 0x80) value += char(b);
        else value += {char(0xc0 | (b >> 6)), char(0x80 | (b & 0x3f))};
      }
    } else {
      value.assign(reinterpret_cast<const char*>(text_begin), text_size);
    }
    out.emplace_back(std::move(keyword), std::move(value));
  }
  return out;
}

namespace {

void append_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& body) {
  append_be32(out, uint32_t(body.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
  append_be32(out, uint32_t(crc32(0L, out.data() + start, uInt(4 + body.size()))));
}

// UTF-8 `s` as Latin-1 bytes, if every code point is below 256.
bool utf8_to_latin1(const std::string& s, std::vector<uint8_t>* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
      out->push_back(b);
    } else if ((b == 0xc2 || b == 0xc3) && i + 1 < s.size() && (uint8_t(s[i + 1]) & 0xc0) == 0x80) {
      out->push_back(uint8_t(((b & 0x03) << 6) | (uint8_t(s[i + 1]) & 0x3f)));
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::vector<uint8_t>> encode_png(const Image& image, const TextChunks& text_chunks) {
  static constexpr int kColorTypes[5] = {0, 0, 4, 2, 6};
  if (image.channels < 1 || image.channels > 4) {
    return Status::invalid_argument("encode_png: " + std::to_string(image.channels) + " channels, expected 1-4");
  }
  if (image.width <= 0 || image.height <= 0 || image.width > (1 << 24) || image.height > (1 << 24) ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels) {
    return Status::invalid_argument("encode_png: image " + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + "x" + std::to_string(image.channels) + " has " +
                                    std::to_string(image.pixels.size()) + " bytes of pixels");
  }
  std::vector<uint8_t> out(kSignature, kSignature + 8);
  std::vector<uint8_t> body;
  append_be32(body, uint32_t(image.width));
  append_be32(body, uint32_t(image.height));
  body.insert(body.end(), {8, uint8_t(kColorTypes[image.channels]), 0, 0, 0});
  append_chunk(out, "IHDR", body);

  for (const auto& [keyword, text] : text_chunks) {
    std::vector<uint8_t> key_latin1, text_latin1;
    if (!utf8_to_latin1(keyword, &key_latin1) || key_latin1.empty() || key_latin1.size() > 79 ||
        std::any_of(key_latin1.begin(), key_latin1.end(), [](uint8_t b) { return b < 0x20 || (b > 0x7e && b < 0xa1); })) {
      return Status::invalid_argument("encode_png: text keyword '" + keyword + "' is not 1-79 printable Latin-1 characters");
    }
    if (text.find('\0') != std::string::npos) {
      return Status::invalid_argument("encode_png: text '" + keyword + "' contains a NUL character");
    }
    body = key_latin1;
    body.push_back(0);
    if (utf8_to_latin1(text, &text_latin1)) {
      body.insert(body.end(), text_latin1.begin(), text_latin1.end());
      append_chunk(out, "tEXt", body);
    } else {
      body.insert(body.end(), {0, 0, 0, 0});  // uncompressed, no language tag, no translated keyword
      body.insert(body.end(), text.begin(), text.end());
      append_chunk(out, "iTXt", body);
    }
  }

  // Filter each row with the type whose output has the smallest sum of
  // absolute values (as signed bytes), the usual heuristic.
  const size_t bpp = size_t(image.channels), n = size_t(image.width) * bpp;
  std::vector<uint8_t> filtered;
  filtered.reserve((n + 1) * image.height);
  std::vector<uint8_t> zeros(n, 0), candidate(n), best(n);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* row = image.pixels.data() + size_t(y) * n;
    const uint8_t* prior = y > 0 ? row - n : zeros.data();
    uint64_t best_cost = UINT64_MAX;
    int best_filter = 0;
    for (int f = 0; f < 5; ++f) {
      uint64_t cost = 0;
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0, upleft = i >= bpp ? prior[i - bpp] : 0;
        int pred = 0;
        switch (f) {
          case 1: pred = left; break;
          case 2: pred = prior[i]; break;
          case 3: pred = (left + prior[i]) >> 1; break;
          case 4: pred = paeth(left, prior[i], upleft); break;
        }
        candidate[i] = uint8_t(row[i] - pred);
        cost += uint64_t(std::abs(int(int8_t(candidate[i]))));
      }
      if (cost < best_cost) {
        best_cost = cost;
        best_filter = f;
        best.swap(candidate);
      }
    }
    filtered.push_back(uint8_t(best_filter));
    filtered.insert(filtered.end(), best.begin(), best.end());
  }
  uLongf compressed_size = compressBound(uLong(filtered.size()));
  body.resize(compressed_size);
  if (compress2(body.data(), &compressed_size, filtered.data(), uLong(filtered.size()), 6) != Z_OK) {
    return Status::io_error("encode_png: zlib compress2 failed");
  }
  body.resize(compressed_size);
  append_chunk(out, "IDAT", body);
  append_chunk(out, "IEND", {});
  return out;
}

}  // namespace aigc
