// A port of Pillow's src/libImaging/Resample.c (ImagingResample on 8-bit images), kept line for
// line where it decides a value: the filters, precompute_coeffs (double), normalize_coeffs_8bpc
// (22-bit fixed point rounded half away from zero), the two passes with a uint8 image between
// them, and clip8. Built with -ffp-contract=off so no multiply-add fuses and every double rounds
// where Pillow's C rounds it.
#include "fathom/image/Resize.h"

#include "fathom/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace fathom::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double boxFilter(double x) {
  return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

double bilinearFilter(double x) {
  if (x < 0.0)
    x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hammingFilter(double x) {
  if (x < 0.0)
    x = -x;
  if (x == 0.0)
    return 1.0;
  if (x >= 1.0)
    return 0.0;
  x = x * std::numbers::pi;
  // Pillow writes these two constants as floats (0.54f, 0.46f); their float values matter.
  return std::sin(x) / x * (double(0.54f) + double(0.46f) * std::cos(x));
}

double bicubicFilter(double x) {
  constexpr double a = -0.5; // Pillow's choice (Catmull-Rom)
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sincFilter(double x) {
  if (x == 0.0)
    return 1.0;
  x = x * std::numbers::pi;
  return std::sin(x) / x;
}

double lanczosFilter(double x) {
  return -3.0 <= x && x < 3.0 ? sincFilter(x) * sincFilter(x / 3) : 0.0;
}

struct Filter {
  double (*function)(double);
  double support;
};

Filter filterFor(Resample resample) {
  switch (resample) {
  case Resample::Box:
    return {boxFilter, 0.5};
  case Resample::Bilinear:
    return {bilinearFilter, 1.0};
  case Resample::Hamming:
    return {hammingFilter, 1.0};
  case Resample::Bicubic:
    return {bicubicFilter, 2.0};
  case Resample::Lanczos:
    return {lanczosFilter, 3.0};
  case Resample::Nearest:
    break;
  }
  throw Error("resize: PIL filter " + std::string(resampleName(resample)) + " (" +
              std::to_string(int(resample)) + ") samples; it has no convolution kernel");
}

// For each output index: the first input index, how many inputs, and their fixed-point weights
// (ksize slots per output, the unused ones 0).
struct Coefficients {
  int ksize = 0;
  std::vector<int> bounds; // [2 * out]: xmin, count
  std::vector<int32_t> weights;
};

Coefficients precomputeCoefficients(int inSize, int outSize, const Filter& filter) {
  const double in0 = 0.0, in1 = inSize; // the whole image: Pillow's default box
  double scale = (in1 - in0) / outSize;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = filter.support * filterscale;
  Coefficients c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.bounds.resize(size_t(outSize) * 2);
  c.weights.resize(size_t(outSize) * c.ksize);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < outSize; ++xx) {
    double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5); // truncation toward zero, as C's (int) cast
    if (xmin < 0)
      xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > inSize)
      xmax = inSize;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      double w = filter.function((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0)
        k[x] /= ww;
    // normalize_coeffs_8bpc: round half away from zero into 22-bit fixed point.
    int32_t* out = &c.weights[size_t(xx) * c.ksize];
    for (int x = 0; x < c.ksize; ++x) {
      double value = x < xmax ? k[x] : 0.0;
      out[x] = value < 0 ? int32_t(-0.5 + value * (1 << kPrecisionBits))
                         : int32_t(0.5 + value * (1 << kPrecisionBits));
    }
    c.bounds[2 * size_t(xx)] = xmin;
    c.bounds[2 * size_t(xx) + 1] = xmax;
  }
  return c;
}

// clip8: the accumulator started at 1 << 21 (one half), so shifting rounds; Pillow's lookup table
// clamps to 0..255. C++20 defines >> of a negative int as arithmetic, as every C compiler does.
inline uint8_t clip8(int32_t accumulator) {
  int32_t value = accumulator >> kPrecisionBits;
  return uint8_t(value < 0 ? 0 : value > 255 ? 255 : value);
}

// Rows [first, first + out.height) of `in`, resampled horizontally.
void resampleHorizontal(const RgbImage& in, int first, RgbImage& out, const Coefficients& c) {
  for (int yy = 0; yy < out.height; ++yy) {
    const uint8_t* row = in.pixels.data() + size_t(yy + first) * in.width * 3;
    uint8_t* target = out.pixels.data() + size_t(yy) * out.width * 3;
    for (int xx = 0; xx < out.width; ++xx) {
      const int xmin = c.bounds[2 * size_t(xx)], count = c.bounds[2 * size_t(xx) + 1];
      const int32_t* k = &c.weights[size_t(xx) * c.ksize];
      int32_t ss0 = 1 << (kPrecisionBits - 1), ss1 = ss0, ss2 = ss0;
      for (int x = 0; x < count; ++x) {
        const uint8_t* p = row + size_t(x + xmin) * 3;
        ss0 += p[0] * k[x];
        ss1 += p[1] * k[x];
        ss2 += p[2] * k[x];
      }
      target[3 * size_t(xx)] = clip8(ss0);
      target[3 * size_t(xx) + 1] = clip8(ss1);
      target[3 * size_t(xx) + 2] = clip8(ss2);
    }
  }
}

// Columns [first, first + out.width) of `in`, resampled vertically; `c.bounds` first indices are
// relative to the first row `in` holds.
void resampleVertical(const RgbImage& in, int first, RgbImage& out, const Coefficients& c) {
  const size_t inStride = size_t(in.width) * 3, outStride = size_t(out.width) * 3;
  const uint8_t* base = in.pixels.data() + size_t(first) * 3;
  for (int yy = 0; yy < out.height; ++yy) {
    const int ymin = c.bounds[2 * size_t(yy)], count = c.bounds[2 * size_t(yy) + 1];
    const int32_t* k = &c.weights[size_t(yy) * c.ksize];
    uint8_t* target = out.pixels.data() + size_t(yy) * outStride;
    for (size_t i = 0; i < outStride; ++i) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < count; ++y)
        ss += base[size_t(y + ymin) * inStride + i] * k[y];
      target[i] = clip8(ss);
    }
  }
}

// The input span [first, last) that the passes over `c` read, and `c` shifted to start there.
std::pair<int, int> shiftToUsedSpan(Coefficients& c, int outSize) {
  const int first = c.bounds[0];
  const int last = c.bounds[2 * size_t(outSize - 1)] + c.bounds[2 * size_t(outSize - 1) + 1];
  for (int i = 0; i < outSize; ++i)
    c.bounds[2 * size_t(i)] -= first;
  return {first, last};
}

RgbImage blank(int width, int height) {
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(width) * height * 3);
  return image;
}

// Pillow resizes with NEAREST through ImagingScaleAffine: source column COORD(xo) for output x,
// with xo starting at scale / 2 and growing by scale = in / out each step, in double (rows
// likewise); the running sum is what decides the ties, so it is kept.
RgbImage nearest(const RgbImage& image, int width, int height) {
  auto sources = [](int inSize, int outSize) {
    std::vector<int> index = std::vector<int>(size_t(outSize));
    const double scale = double(inSize) / double(outSize);
    double position = scale * 0.5;
    for (int i = 0; i < outSize; ++i, position += scale)
      index[size_t(i)] = int(position) < inSize ? int(position) : -1; // -1: Pillow's fill
    return index;
  };
  const std::vector<int> columns = sources(image.width, width),
                         rows = sources(image.height, height);
  RgbImage out = blank(width, height);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = out.pixels.data() + size_t(y) * width * 3;
    std::fill_n(row, size_t(width) * 3, uint8_t(0));
    if (rows[size_t(y)] < 0)
      continue;
    const uint8_t* in = image.pixels.data() + size_t(rows[size_t(y)]) * image.width * 3;
    for (int x = 0; x < width; ++x)
      if (columns[size_t(x)] >= 0)
        std::memcpy(row + size_t(x) * 3, in + size_t(columns[size_t(x)]) * 3, 3);
  }
  return out;
}

} // namespace

std::string_view resampleName(Resample filter) {
  switch (filter) {
  case Resample::Nearest:
    return "NEAREST";
  case Resample::Lanczos:
    return "LANCZOS";
  case Resample::Bilinear:
    return "BILINEAR";
  case Resample::Bicubic:
    return "BICUBIC";
  case Resample::Box:
    return "BOX";
  case Resample::Hamming:
    return "HAMMING";
  }
  return "unknown";
}

std::optional<Resample> resampleFromPil(int64_t value) {
  if (value < 0 || value > 5)
    return std::nullopt;
  return Resample(value);
}

RgbImage resize(const RgbImage& image, int width, int height, Resample filter) {
  if (width < 1 || height < 1)
    throw Error("resize: target size " + std::to_string(width) + "x" + std::to_string(height) +
                " must be at least 1x1");
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != size_t(image.width) * image.height * 3)
    throw Error("resize: the input image is empty or its pixel buffer has the wrong size");
  const bool horizontal = width != image.width, vertical = height != image.height;
  if (!horizontal && !vertical)
    return image; // Pillow returns a copy
  if (filter == Resample::Nearest)
    return nearest(image, width, height);
  const Filter f = filterFor(filter);

  if (!vertical) {
    RgbImage out = blank(width, height);
    resampleHorizontal(image, 0, out, precomputeCoefficients(image.width, width, f));
    return out;
  }
  Coefficients rows = precomputeCoefficients(image.height, height, f);
  if (!horizontal) {
    RgbImage out = blank(width, height);
    resampleVertical(image, 0, out, rows);
    return out;
  }
  Coefficients cols = precomputeCoefficients(image.width, width, f);
  RgbImage out = blank(width, height);
  // Pillow 13 (python-pillow/Pillow#9549) runs the vertical pass first when the height shrinks by
  // more than twice as many pixels as the width does; the rounding to uint8 between the passes
  // makes the order visible. The rule was confirmed on ~800 random sizes against Pillow 13.0.0.
  const bool verticalFirst =
      height < image.height && image.height - height > 2 * (image.width - width);
  if (verticalFirst) {
    auto [first, last] = shiftToUsedSpan(cols, width);
    RgbImage temp = blank(last - first, height);
    resampleVertical(image, first, temp, rows);
    resampleHorizontal(temp, 0, out, cols);
  } else {
    // Only the input rows the vertical pass reads go through the horizontal one.
    auto [first, last] = shiftToUsedSpan(rows, height);
    RgbImage temp = blank(width, last - first);
    resampleHorizontal(image, first, temp, cols);
    resampleVertical(temp, 0, out, rows);
  }
  return out;
}

} // namespace fathom::image
