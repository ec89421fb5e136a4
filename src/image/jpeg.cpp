// JPEG decoder (see jpeg.h). Every scan's coefficients are decoded into
// per-component block arrays; after the last scan each component goes through
// the IDCT, is upsampled to the image size and converted to RGB.
#include "image/jpeg.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace aigc {
namespace {

// Natural (row-major) position of the k-th coefficient in zig-zag order.
constexpr uint8_t kZigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                                 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                                 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                                 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

// ---------------------------------------------------------------- Huffman tables

struct HuffmanTable {
  static constexpr int kLookupBits = 9;
  bool defined = false;
  std::array<uint8_t, 1 << kLookupBits> lookup_length{};  // 0: code longer than kLookupBits
  std::array<uint8_t, 1 << kLookupBits> lookup_symbol{};
  std::array<int32_t, 17> max_code{};  // per code length; -1 when none
  std::array<int32_t, 17> min_code{};
  std::array<int32_t, 17> first_index{};
  std::array<uint8_t, 256> symbols{};
  int n_symbols = 0;
};

// Builds the canonical code from the 16 length counts; false when the counts
// describe more codes than fit.
bool build_huffman(const uint8_t counts[16], const uint8_t* symbols, int n_symbols, HuffmanTable* t) {
  *t = HuffmanTable{};
  t->n_symbols = n_symbols;
  std::copy(symbols, symbols + n_symbols, t->symbols.begin());
  int32_t code = 0;
  int index = 0;
  for (int length = 1; length <= 16; ++length) {
    const int n = counts[length - 1];
    t->first_index[length] = index;
    t->min_code[length] = code;
    t->max_code[length] = n > 0 ? code + n - 1 : -1;
    if (code + n > (1 << length)) return false;
    if (length <= HuffmanTable::kLookupBits) {
      for (int i = 0; i < n; ++i) {
        const int shift = HuffmanTable::kLookupBits - length;
        const int first = (code + i) << shift;
        for (int j = 0; j < (1 << shift); ++j) {
          t->lookup_length[first + j] = uint8_t(length);
          t->lookup_symbol[first + j] = symbols[index + i];
        }
      }
    }
    code += n;
    index += n;
    code <<= 1;
  }
  t->defined = true;
  return true;
}

// ---------------------------------------------------------------- entropy-coded data

// Reads the bits of one scan, removing stuffed zero bytes. At a marker or the
// end of the data it supplies zero bits and counts them, so `overrun()` tells
// when the decoder used bits that are not in the file.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size, size_t pos) : data_(data), size_(size), pos_(pos) {}

  uint32_t peek16() {
    fill();
    return buffer_ >> 16;
  }
  void skip(int n) {
    buffer_ <<= n;
    bits_ -= n;
  }
  int bit() {
    fill();
    const int b = int(buffer_ >> 31);
    skip(1);
    return b;
  }
  int bits(int n) {  // n in 1..16
    fill();
    const int v = int(buffer_ >> (32 - n));
    skip(n);
    return v;
  }
  // Huffman-coded value of `t`, or -1 for an invalid code.
  int decode(const HuffmanTable& t) {
    const uint32_t look = peek16();
    const int length = t.lookup_length[look >> (16 - HuffmanTable::kLookupBits)];
    if (length > 0) {
      skip(length);
      return t.lookup_symbol[look >> (16 - HuffmanTable::kLookupBits)];
    }
    for (int l = HuffmanTable::kLookupBits + 1; l <= 16; ++l) {
      const int32_t code = int32_t(look >> (16 - l));
      if (code <= t.max_code[l]) {
        skip(l);
        const int index = t.first_index[l] + code - t.min_code[l];
        return index < t.n_symbols ? t.symbols[index] : -1;
      }
    }
    return -1;
  }
  // The signed value of an `s`-bit magnitude category (JPEG's EXTEND).
  int receive_extend(int s) {
    if (s == 0) return 0;
    const int v = bits(s);
    return v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
  }
  bool overrun() const { return fake_bits_ > bits_; }
  // After a restart interval: drops the buffered bits and consumes the RSTn
  // marker (after any padding). False when there is none.
  bool restart() {
    buffer_ = 0;
    bits_ = 0;
    fake_bits_ = 0;
    at_marker_ = false;
    while (pos_ + 1 < size_ && !(data_[pos_] == 0xff && data_[pos_ + 1] != 0 && data_[pos_ + 1] != 0xff)) ++pos_;
    if (pos_ + 1 >= size_ || data_[pos_ + 1] < 0xd0 || data_[pos_ + 1] > 0xd7) return false;
    pos_ += 2;
    return true;
  }
  size_t position() const { return pos_; }

 private:
  void fill() {
    while (bits_ <= 24) {
      uint32_t byte = 0;
      bool real = false;
      if (!at_marker_ && pos_ < size_) {
        byte = data_[pos_];
        if (byte != 0xff) {
          ++pos_;
          real = true;
        } else if (pos_ + 1 < size_ && data_[pos_ + 1] == 0) {  // stuffed zero byte
          pos_ += 2;
          real = true;
        } else {
          at_marker_ = true;
          byte = 0;
        }
      }
      if (!real) fake_bits_ += 8;
      buffer_ |= byte << (24 - bits_);
      bits_ += 8;
    }
  }

  const uint8_t* data_;
  size_t size_, pos_;
  uint32_t buffer_ = 0;
  int bits_ = 0;
  int fake_bits_ = 0;
  bool at_marker_ = false;
};

// ---------------------------------------------------------------- IDCT (libjpeg's jidctint "islow")

constexpr int kConstBits = 13, kPass1Bits = 2;
constexpr int64_t kFix0_298631336 = 2446, kFix0_390180644 = 3196, kFix0_541196100 = 4433,
                  kFix0_765366865 = 6270, kFix0_899976223 = 7373, kFix1_175875602 = 9633,
                  kFix1_501321110 = 12299, kFix1_847759065 = 15137, kFix1_961570560 = 16069,
                  kFix2_053119869 = 16819, kFix2_562915447 = 20995, kFix3_072711026 = 25172;

int64_t descale(int64_t x, int n) { return (x + (int64_t(1) << (n - 1))) >> n; }

// One 8-point 1-D IDCT of in[0], in[s], ..., in[7s]; out[i] before descaling.
void idct_1d(const int64_t in[8], int64_t out[8]) {
  int64_t z2 = in[2], z3 = in[6];
  int64_t z1 = (z2 + z3) * kFix0_541196100;
  const int64_t t2 = z1 + z3 * -kFix1_847759065;
  const int64_t t3 = z1 + z2 * kFix0_765366865;
  const int64_t t0 = (in[0] + in[4]) * (int64_t(1) << kConstBits);
  const int64_t t1 = (in[0] - in[4]) * (int64_t(1) << kConstBits);
  const int64_t t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;

  int64_t o0 = in[7], o1 = in[5], o2 = in[3], o3 = in[1];
  z1 = o0 + o3;
  z2 = o1 + o2;
  z3 = o0 + o2;
  int64_t z4 = o1 + o3;
  const int64_t z5 = (z3 + z4) * kFix1_175875602;
  o0 *= kFix0_298631336;
  o1 *= kFix2_053119869;
  o2 *= kFix3_072711026;
  o3 *= kFix1_501321110;
  z1 *= -kFix0_899976223;
  z2 *= -kFix2_562915447;
  z3 = z3 * -kFix1_961570560 + z5;
  z4 = z4 * -kFix0_390180644 + z5;
  o0 += z1 + z3;
  o1 += z2 + z4;
  o2 += z2 + z3;
  o3 += z1 + z4;
  out[0] = t10 + o3;
  out[7] = t10 - o3;
  out[1] = t11 + o2;
  out[6] = t11 - o2;
  out[2] = t12 + o1;
  out[5] = t12 - o1;
  out[3] = t13 + o0;
  out[4] = t13 - o0;
}

// coefficients (natural order) x quantization table -> 8x8 samples.
void idct_block(const int16_t* coef, const uint16_t* quant, uint8_t* out, size_t stride) {
  int32_t workspace[64];
  int64_t in[8], res[8];
  for (int col = 0; col < 8; ++col) {
    bool ac_zero = true;
    for (int row = 1; row < 8; ++row) ac_zero = ac_zero && coef[row * 8 + col] == 0;
    if (ac_zero) {
      const int32_t dc = int32_t(int64_t(coef[col]) * quant[col] * (1 << kPass1Bits));
      for (int row = 0; row < 8; ++row) workspace[row * 8 + col] = dc;
      continue;
    }
    for (int row = 0; row < 8; ++row) in[row] = int64_t(coef[row * 8 + col]) * quant[row * 8 + col];
    idct_1d(in, res);
    for (int row = 0; row < 8; ++row) workspace[row * 8 + col] = int32_t(descale(res[row], kConstBits - kPass1Bits));
  }
  for (int row = 0; row < 8; ++row) {
    for (int i = 0; i < 8; ++i) in[i] = workspace[row * 8 + i];
    idct_1d(in, res);
    for (int i = 0; i < 8; ++i) {
      const int64_t v = descale(res[i], kConstBits + kPass1Bits + 3) + 128;
      out[row * stride + i] = uint8_t(std::clamp<int64_t>(v, 0, 255));
    }
  }
}

// ---------------------------------------------------------------- frame and scans

struct Component {
  int id = 0, h = 1, v = 1, quant_table = 0;
  int width = 0, height = 0;        // samples: ceil(image size * h / h_max)
  int blocks_w = 0, blocks_h = 0;   // allocated blocks, padded to whole MCUs
  std::vector<int16_t> coefs;       // [blocks_h, blocks_w, 64], natural order
  int dc_table = 0, ac_table = 0;   // of the current scan
  int dc_pred = 0;
  int16_t* block(int bx, int by) { return coefs.data() + (size_t(by) * blocks_w + bx) * 64; }
};

class JpegDecoder {
 public:
  JpegDecoder(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits)
      : data_(data), size_(size), name_(name), limits_(limits) {}

  Result<Image> decode();

 private:
  Status error(const std::string& what) const { return Status::corruption(name_ + ": " + what); }
  static std::string hex(int marker) {
    static const char kDigits[] = "0123456789ABCDEF";
    return std::string("0xFF") + kDigits[marker >> 4] + kDigits[marker & 15];
  }
  uint32_t be16(size_t at) const { return (uint32_t(data_[at]) << 8) | data_[at + 1]; }

  Status read_quant_tables(size_t at, size_t end);
  Status read_huffman_tables(size_t at, size_t end);
  Status read_frame(size_t at, size_t end, int marker);
  Status read_scan(size_t at, size_t end, size_t* next);
  Status decode_block(BitReader& br, Component& c, int16_t* block);
  Result<Image> finish();

  const uint8_t* data_;
  size_t size_;
  const std::string& name_;
  ImageLimits limits_;

  std::array<std::array<uint16_t, 64>, 4> quant_{};  // natural order
  std::array<bool, 4> quant_defined_{};
  std::array<HuffmanTable, 4> dc_tables_, ac_tables_;
  int restart_interval_ = 0;
  bool saw_jfif_ = false, saw_adobe_ = false;
  int adobe_transform_ = -1;

  bool have_frame_ = false, progressive_ = false;
  int width_ = 0, height_ = 0, h_max_ = 1, v_max_ = 1, mcus_x_ = 0, mcus_y_ = 0;
  std::vector<Component> components_;
  int n_scans_ = 0;

  // Current scan.
  int ss_ = 0, se_ = 63, ah_ = 0, al_ = 0;
  int eobrun_ = 0;
};

Status JpegDecoder::read_quant_tables(size_t at, size_t end) {
  while (at < end) {
    const int precision = data_[at] >> 4, id = data_[at] & 15;
    const size_t n = precision == 0 ? 64 : 128;
    if (precision > 1 || id > 3) return error("DQT: invalid table precision/id byte " + std::to_string(data_[at]));
    if (end - at - 1 < n) return error("DQT: table " + std::to_string(id) + " is truncated");
    ++at;
    for (int k = 0; k < 64; ++k) {
      const uint16_t q = precision == 0 ? data_[at + k] : uint16_t(be16(at + 2 * k));
      if (q == 0) return error("DQT: table " + std::to_string(id) + " has a zero entry");
      quant_[id][kZigzag[k]] = q;
    }
    quant_defined_[id] = true;
    at += n;
  }
  return {};
}

Status JpegDecoder::read_huffman_tables(size_t at, size_t end) {
  while (at < end) {
    if (end - at < 17) return error("DHT: truncated table header");
    const int table_class = data_[at] >> 4, id = data_[at] & 15;
    if (table_class > 1 || id > 3) return error("DHT: invalid table class/id byte " + std::to_string(data_[at]));
    const uint8_t* counts = data_ + at + 1;
    int n = 0;
    for (int i = 0; i < 16; ++i) n += counts[i];
    if (n > 256 || size_t(n) > end - at - 17) return error("DHT: table with " + std::to_string(n) + " symbols is truncated or too large");
    HuffmanTable& t = table_class == 0 ? dc_tables_[id] : ac_tables_[id];
    if (!build_huffman(counts, data_ + at + 17, n, &t)) return error("DHT: table " + std::to_string(id) + " has invalid code lengths");
    at += 17 + size_t(n);
  }
  return {};
}

Status JpegDecoder::read_frame(size_t at, size_t end, int marker) {
  if (have_frame_) return error("second frame header (SOF)");
  if (end - at < 6) return error("SOF: truncated");
  const int precision = data_[at];
  height_ = int(be16(at + 1));
  width_ = int(be16(at + 3));
  const int n = data_[at + 5];
  if (precision != 8) return Status::unsupported(name_ + ": " + std::to_string(precision) + "-bit JPEG is not supported (8-bit only)");
  if (height_ == 0) return Status::unsupported(name_ + ": JPEG with the height in a DNL marker is not supported");
  if (width_ == 0) return error("SOF: width is 0");
  if (width_ > limits_.max_dimension || height_ > limits_.max_dimension ||
      int64_t(width_) * height_ > limits_.max_pixels) {
    return Status::out_of_range(name_ + ": image size " + std::to_string(width_) + "x" + std::to_string(height_) +
                                " exceeds the limit (" + std::to_string(limits_.max_dimension) + " per side, " +
                                std::to_string(limits_.max_pixels) + " pixels)");
  }
  if (n == 4) return Status::unsupported(name_ + ": CMYK/YCCK JPEG (4 components) is not supported");
  if (n != 1 && n != 3) return Status::unsupported(name_ + ": JPEG with " + std::to_string(n) + " components is not supported");
  if (end - at != 6 + size_t(3) * n) return error("SOF: length does not match " + std::to_string(n) + " components");
  components_.resize(size_t(n));
  for (int i = 0; i < n; ++i) {
    Component& c = components_[size_t(i)];
    const uint8_t* p = data_ + at + 6 + 3 * i;
    c.id = p[0];
    c.h = p[1] >> 4;
    c.v = p[1] & 15;
    c.quant_table = p[2];
    if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4) {
      return error("SOF: component " + std::to_string(c.id) + " has invalid sampling factors " + std::to_string(c.h) +
                   "x" + std::to_string(c.v));
    }
    if (c.quant_table > 3) return error("SOF: component " + std::to_string(c.id) + " uses quantization table " + std::to_string(c.quant_table));
    for (int j = 0; j < i; ++j) {
      if (components_[size_t(j)].id == c.id) return error("SOF: duplicate component id " + std::to_string(c.id));
    }
    h_max_ = std::max(h_max_, c.h);
    v_max_ = std::max(v_max_, c.v);
  }
  mcus_x_ = (width_ + 8 * h_max_ - 1) / (8 * h_max_);
  mcus_y_ = (height_ + 8 * v_max_ - 1) / (8 * v_max_);
  for (Component& c : components_) {
    if (h_max_ % c.h != 0 || v_max_ % c.v != 0) {
      return Status::unsupported(name_ + ": fractional chroma subsampling (component " + std::to_string(c.id) + ")");
    }
    c.width = int((int64_t(width_) * c.h + h_max_ - 1) / h_max_);
    c.height = int((int64_t(height_) * c.v + v_max_ - 1) / v_max_);
    c.blocks_w = mcus_x_ * c.h;
    c.blocks_h = mcus_y_ * c.v;
    c.coefs.assign(size_t(c.blocks_w) * c.blocks_h * 64, 0);
  }
  progressive_ = marker == 0xc2;
  have_frame_ = true;
  return {};
}

Status JpegDecoder::decode_block(BitReader& br, Component& c, int16_t* block) {
  const auto bad_code = [&] { return error("invalid Huffman code in component " + std::to_string(c.id)); };
  if (!progressive_) {
    const int t = br.decode(dc_tables_[c.dc_table]);
    if (t < 0 || t > 11) return bad_code();
    c.dc_pred = int16_t(c.dc_pred + br.receive_extend(t));
    block[0] = int16_t(c.dc_pred);
    for (int k = 1; k < 64;) {
      const int rs = br.decode(ac_tables_[c.ac_table]);
      if (rs < 0) return bad_code();
      const int r = rs >> 4, s = rs & 15;
      if (s != 0) {
        k += r;
        if (k > 63) return error("coefficient index beyond 63 in component " + std::to_string(c.id));
        block[kZigzag[k++]] = int16_t(br.receive_extend(s));
      } else if (r == 15) {
        k += 16;
      } else {
        break;
      }
    }
    return {};
  }
  if (ss_ == 0) {  // DC scans
    if (ah_ == 0) {
      const int t = br.decode(dc_tables_[c.dc_table]);
      if (t < 0 || t > 11) return bad_code();
      c.dc_pred = int16_t(c.dc_pred + br.receive_extend(t));
      block[0] = int16_t(c.dc_pred * (1 << al_));
    } else if (br.bit()) {
      block[0] = int16_t(block[0] | (1 << al_));
    }
    return {};
  }
  const HuffmanTable& ac = ac_tables_[c.ac_table];
  if (ah_ == 0) {  // AC first pass
    if (eobrun_ > 0) {
      --eobrun_;
      return {};
    }
    for (int k = ss_; k <= se_;) {
      const int rs = br.decode(ac);
      if (rs < 0) return bad_code();
      const int r = rs >> 4, s = rs & 15;
      if (s != 0) {
        k += r;
        if (k > se_) return error("coefficient index beyond the scan's band in component " + std::to_string(c.id));
        block[kZigzag[k++]] = int16_t(br.receive_extend(s) * (1 << al_));
      } else if (r < 15) {
        eobrun_ = (1 << r) - 1;
        if (r > 0) eobrun_ += br.bits(r);
        break;
      } else {
        k += 16;
      }
    }
    return {};
  }
  // AC refinement: one more bit of every nonzero coefficient in the band,
  // and newly nonzero coefficients of magnitude 1 << al.
  const int p1 = 1 << al_, m1 = -(1 << al_);
  const auto refine = [&](int16_t& coef) {
    if (br.bit() && (coef & p1) == 0) coef = int16_t(coef + (coef >= 0 ? p1 : m1));
  };
  int k = ss_;
  if (eobrun_ == 0) {
    for (; k <= se_; ++k) {
      const int rs = br.decode(ac);
      if (rs < 0) return bad_code();
      int r = rs >> 4, s = rs & 15;
      if (s != 0) {
        if (s != 1) return error("refinement scan: coefficient size " + std::to_string(s) + " is not 1");
        s = br.bit() ? p1 : m1;
      } else if (r != 15) {
        eobrun_ = 1 << r;
        if (r > 0) eobrun_ += br.bits(r);
        break;
      }
      for (; k <= se_; ++k) {
        int16_t& coef = block[kZigzag[k]];
        if (coef != 0) {
          refine(coef);
        } else if (--r < 0) {
          break;
        }
      }
      if (s != 0 && k <= se_) block[kZigzag[k]] = int16_t(s);
    }
  }
  if (eobrun_ > 0) {
    for (; k <= se_; ++k) {
      int16_t& coef = block[kZigzag[k]];
      if (coef != 0) refine(coef);
    }
    --eobrun_;
  }
  return {};
}

Status JpegDecoder::read_scan(size_t at, size_t end, size_t* next) {
  if (!have_frame_) return error("scan (SOS) before the frame header (SOF)");
  if (end - at < 1) return error("SOS: truncated");
  const int n = data_[at];
  if (n < 1 || n > 4 || end - at != 4 + size_t(2) * n) return error("SOS: invalid component count " + std::to_string(n));
  std::vector<Component*> scan;
  size_t prev = 0;
  for (int i = 0; i < n; ++i) {
    const int id = data_[at + 1 + 2 * i], tables = data_[at + 2 + 2 * i];
    size_t index = prev;
    while (index < components_.size() && components_[index].id != id) ++index;
    if (index == components_.size()) return error("SOS: unknown or out-of-order component id " + std::to_string(id));
    prev = index + 1;
    Component& c = components_[index];
    c.dc_table = tables >> 4;
    c.ac_table = tables & 15;
    if (c.dc_table > 3 || c.ac_table > 3) return error("SOS: invalid Huffman table ids " + std::to_string(tables));
    scan.push_back(&c);
  }
  const uint8_t* p = data_ + at + 1 + 2 * n;
  ss_ = p[0];
  se_ = p[1];
  ah_ = p[2] >> 4;
  al_ = p[2] & 15;
  if (progressive_) {
    const bool valid = ss_ == 0 ? se_ == 0 : (se_ >= ss_ && se_ <= 63 && n == 1);
    if (!valid || ah_ > 13 || al_ > 13) {
      return error("SOS: invalid progressive scan parameters Ss=" + std::to_string(ss_) + " Se=" + std::to_string(se_) +
                   " Ah=" + std::to_string(ah_) + " Al=" + std::to_string(al_));
    }
  } else {
    ss_ = 0, se_ = 63, ah_ = 0, al_ = 0;
  }
  int blocks_per_mcu = 0;
  for (Component* c : scan) {
    const bool needs_dc = ss_ == 0 && ah_ == 0, needs_ac = se_ > 0;
    if (needs_dc && !dc_tables_[c->dc_table].defined) return error("SOS: DC Huffman table " + std::to_string(c->dc_table) + " is not defined");
    if (needs_ac && !ac_tables_[c->ac_table].defined) return error("SOS: AC Huffman table " + std::to_string(c->ac_table) + " is not defined");
    if (!quant_defined_[c->quant_table]) return error("SOS: quantization table " + std::to_string(c->quant_table) + " is not defined");
    c->dc_pred = 0;
    blocks_per_mcu += c->h * c->v;
  }
  if (n > 1 && blocks_per_mcu > 10) return error("SOS: " + std::to_string(blocks_per_mcu) + " blocks per MCU (at most 10)");
  eobrun_ = 0;

  // A scan of one component covers its blocks in raster order, one block per
  // MCU; a scan of several covers whole MCUs.
  const int units_x = n == 1 ? (scan[0]->width + 7) / 8 : mcus_x_;
  const int units_y = n == 1 ? (scan[0]->height + 7) / 8 : mcus_y_;
  const int64_t n_units = int64_t(units_x) * units_y;
  BitReader br(data_, size_, end);
  for (int64_t unit = 0; unit < n_units; ++unit) {
    if (restart_interval_ > 0 && unit > 0 && unit % restart_interval_ == 0) {
      if (!br.restart()) return error("missing restart marker before MCU " + std::to_string(unit));
      for (Component* c : scan) c->dc_pred = 0;
      eobrun_ = 0;
    }
    const int ux = int(unit % units_x), uy = int(unit / units_x);
    if (n == 1) {
      AIGC_RETURN_IF_ERROR(decode_block(br, *scan[0], scan[0]->block(ux, uy)));
    } else {
      for (Component* c : scan) {
        for (int v = 0; v < c->v; ++v) {
          for (int h = 0; h < c->h; ++h) {
            AIGC_RETURN_IF_ERROR(decode_block(br, *c, c->block(ux * c->h + h, uy * c->v + v)));
          }
        }
      }
    }
    if (br.overrun()) {
      return error("entropy-coded data of scan " + std::to_string(n_scans_) + " ends at MCU " + std::to_string(unit) +
                   " of " + std::to_string(n_units) + " (truncated or corrupt file)");
    }
  }
  ++n_scans_;
  *next = br.position();
  return {};
}

// ---------------------------------------------------------------- upsampling and colour

// Component plane (after the IDCT) -> full-size plane, as libjpeg does it.
void upsample(const Component& c, const std::vector<uint8_t>& plane, int h_max, int v_max, int width, int height,
              std::vector<uint8_t>* out) {
  const size_t stride = size_t(c.blocks_w) * 8;
  const int hf = h_max / c.h, vf = v_max / c.v;
  const int cw = c.width, ch = c.height;
  out->resize(size_t(width) * height);
  // Rows of the fancy upsamplers are computed into `row` (2 * cw samples).
  std::vector<int> colsum(static_cast<size_t>(cw));
  std::vector<uint8_t> row(size_t(2) * cw);
  const auto at = [&](int x, int y) { return int(plane[size_t(y) * stride + x]); };
  const auto h2_fancy = [&](const int* sum, int scale, int bias_even, int bias_odd, int shift) {
    // Horizontal triangle filter over column sums (already weighted vertically).
    row[0] = uint8_t((sum[0] * scale + bias_even) >> shift);
    row[1] = uint8_t((sum[0] * 3 + sum[1] + bias_odd) >> shift);
    for (int x = 1; x < cw - 1; ++x) {
      row[2 * x] = uint8_t((sum[x] * 3 + sum[x - 1] + bias_even) >> shift);
      row[2 * x + 1] = uint8_t((sum[x] * 3 + sum[x + 1] + bias_odd) >> shift);
    }
    row[2 * cw - 2] = uint8_t((sum[cw - 1] * 3 + sum[cw - 2] + bias_even) >> shift);
    row[2 * cw - 1] = uint8_t((sum[cw - 1] * scale + bias_odd) >> shift);
  };
  for (int y = 0; y < height; ++y) {
    uint8_t* dst = out->data() + size_t(y) * width;
    if (hf == 1 && vf == 1) {
      for (int x = 0; x < width; ++x) dst[x] = uint8_t(at(x, y));
    } else if (hf == 2 && vf == 1 && cw > 2) {  // h2v1 fancy
      for (int x = 0; x < cw; ++x) colsum[size_t(x)] = at(x, y);
      h2_fancy(colsum.data(), 4, 1, 2, 2);
      std::memcpy(dst, row.data(), size_t(width));
    } else if (hf == 1 && vf == 2) {  // h1v2 fancy
      const int sy = y / 2, ny = std::clamp(y % 2 == 0 ? sy - 1 : sy + 1, 0, ch - 1);
      const int bias = y % 2 == 0 ? 1 : 2;
      for (int x = 0; x < width; ++x) dst[x] = uint8_t((at(x, sy) * 3 + at(x, ny) + bias) >> 2);
    } else if (hf == 2 && vf == 2 && cw > 2) {  // h2v2 fancy
      const int sy = y / 2, ny = std::clamp(y % 2 == 0 ? sy - 1 : sy + 1, 0, ch - 1);
      for (int x = 0; x < cw; ++x) colsum[size_t(x)] = at(x, sy) * 3 + at(x, ny);
      h2_fancy(colsum.data(), 4, 8, 7, 4);
      std::memcpy(dst, row.data(), size_t(width));
    } else {  // replication
      for (int x = 0; x < width; ++x) dst[x] = uint8_t(at(x / hf, y / vf));
    }
  }
}

// libjpeg's fixed-point YCbCr -> RGB (jdcolor.c), 16 fraction bits.
struct YccTables {
  int cr_r[256], cb_b[256], cr_g[256], cb_g[256];
  YccTables() {
    constexpr int kBits = 16;
    const auto fix = [](double x) { return int(x * (1 << kBits) + 0.5); };
    for (int i = 0; i < 256; ++i) {
      const int x = i - 128;
      cr_r[i] = (fix(1.40200) * x + (1 << (kBits - 1))) >> kBits;
      cb_b[i] = (fix(1.77200) * x + (1 << (kBits - 1))) >> kBits;
      cr_g[i] = -fix(0.71414) * x;
      cb_g[i] = -fix(0.34414) * x + (1 << (kBits - 1));
    }
  }
};

uint8_t clamp255(int v) { return uint8_t(std::clamp(v, 0, 255)); }

Result<Image> JpegDecoder::finish() {
  std::vector<std::vector<uint8_t>> planes(components_.size());
  std::vector<uint8_t> plane;
  for (size_t i = 0; i < components_.size(); ++i) {
    Component& c = components_[i];
    const size_t stride = size_t(c.blocks_w) * 8;
    plane.assign(stride * size_t(c.blocks_h) * 8, 0);
    for (int by = 0; by < c.blocks_h; ++by) {
      for (int bx = 0; bx < c.blocks_w; ++bx) {
        idct_block(c.block(bx, by), quant_[size_t(c.quant_table)].data(), plane.data() + size_t(by) * 8 * stride + bx * 8, stride);
      }
    }
    upsample(c, plane, h_max_, v_max_, width_, height_, &planes[i]);
  }
  Image img;
  img.width = width_;
  img.height = height_;
  img.channels = int(components_.size());
  const size_t n = size_t(width_) * height_;
  img.pixels.resize(n * img.channels);
  if (img.channels == 1) {
    img.pixels = std::move(planes[0]);
    return img;
  }
  bool ycc = true;
  if (!saw_jfif_ && saw_adobe_) {
    ycc = adobe_transform_ != 0;
  } else if (!saw_jfif_) {
    ycc = !(components_[0].id == 'R' && components_[1].id == 'G' && components_[2].id == 'B');
  }
  static const YccTables t;
  for (size_t i = 0; i < n; ++i) {
    const int y = planes[0][i], cb = planes[1][i], cr = planes[2][i];
    uint8_t* px = img.pixels.data() + 3 * i;
    if (!ycc) {
      px[0] = uint8_t(y), px[1] = uint8_t(cb), px[2] = uint8_t(cr);
      continue;
    }
    px[0] = clamp255(y + t.cr_r[cr]);
    px[1] = clamp255(y + ((t.cb_g[cb] + t.cr_g[cr]) >> 16));
    px[2] = clamp255(y + t.cb_b[cb]);
  }
  return img;
}

Result<Image> JpegDecoder::decode() {
  if (!is_jpeg(data_, size_)) return error("not a JPEG file (no SOI marker)");
  size_t pos = 2;
  for (;;) {
    // Next marker: 0xFF (possibly repeated) then a code; other bytes are skipped.
    while (pos < size_ && data_[pos] != 0xff) ++pos;
    while (pos < size_ && data_[pos] == 0xff) ++pos;
    if (pos >= size_) {
      if (n_scans_ > 0) break;  // a missing EOI after complete scans is tolerated, as libjpeg does
      return error("truncated JPEG: the file ends at byte " + std::to_string(size_) + " before any image data");
    }
    const int marker = data_[pos++];
    if (marker == 0xd9) break;                                      // EOI
    if (marker == 0 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // stray bytes, TEM, RSTn
    if (marker == 0xd8) return error("second SOI marker");
    if (size_ - pos < 2) return error("truncated JPEG: marker " + hex(marker) + " has no length");
    const size_t length = be16(pos);
    if (length < 2 || length > size_ - pos) {
      return error("segment of marker " + hex(marker) + " at byte " + std::to_string(pos - 2) +
                   ": length " + std::to_string(length) + " runs past the end of the file (truncated JPEG)");
    }
    const size_t begin = pos + 2, end = pos + length;
    pos = end;
    switch (marker) {
      case 0xc0: case 0xc1: case 0xc2:
        AIGC_RETURN_IF_ERROR(read_frame(begin, end, marker));
        break;
      case 0xc3: case 0xc7: case 0xcb: case 0xcf:
        return Status::unsupported(name_ + ": lossless JPEG is not supported");
      case 0xc5: case 0xc6: case 0xcd: case 0xce:
        return Status::unsupported(name_ + ": hierarchical JPEG is not supported");
      case 0xc9: case 0xca:
        return Status::unsupported(name_ + ": arithmetic-coded JPEG is not supported");
      case 0xc4:
        AIGC_RETURN_IF_ERROR(read_huffman_tables(begin, end));
        break;
      case 0xdb:
        AIGC_RETURN_IF_ERROR(read_quant_tables(begin, end));
        break;
      case 0xdd:
        if (length != 4) return error("DRI: length " + std::to_string(length) + ", expected 4");
        restart_interval_ = int(be16(begin));
        break;
      case 0xda:
        AIGC_RETURN_IF_ERROR(read_scan(begin, end, &pos));
        break;
      case 0xe0:
        if (end - begin >= 5 && std::memcmp(data_ + begin, "JFIF\0", 5) == 0) saw_jfif_ = true;
        break;
      case 0xee:
        if (end - begin >= 12 && std::memcmp(data_ + begin, "Adobe", 5) == 0) {
          saw_adobe_ = true;
          adobe_transform_ = data_[begin + 11];
        }
        break;
      default:  // other APPn, COM, DNL...
        break;
    }
  }
  if (!have_frame_) return error("no frame header (SOF) before the end of the image");
  if (n_scans_ == 0) return error("no scan (SOS) before the end of the image");
  return finish();
}

}  // namespace

bool is_jpeg(const uint8_t* data, size_t size) { return size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff; }

Result<Image> decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits) {
  return JpegDecoder(data, size, name, limits).decode();
}

}  // namespace aigc
