// libFuzzer target for the GGUF reader: parse arbitrary bytes and, when they
// parse, touch every metadata value and every byte of every tensor view, so
// ASan catches any view or value that points outside the input.
//
// Seed corpus: run once with SILICA_FUZZ_SEED_DIR=<dir> and <dir> as the
// corpus; the initializer writes a few small GgufWriter-made files there
// (every value type, nested arrays, several dtypes, v2, alignment 64).
//   SILICA_FUZZ_SEED_DIR=corpus build/fuzz/bin/gguf_fuzz corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_config.h"
#include "io/gguf_writer.h"

namespace {

using silica::DType;
using silica::GgufType;
using silica::GgufValue;
using silica::GgufWriter;
using silica::Shape;

uint64_t Touch(const GgufValue& v) {
  uint64_t h = static_cast<uint64_t>(v.type);
  if (const auto* s = std::get_if<std::string>(&v.data)) {
    for (char c : *s) h = h * 31 + static_cast<uint8_t>(c);
  } else if (const auto* u = std::get_if<uint64_t>(&v.data)) {
    h += *u;
  } else if (const auto* i = std::get_if<int64_t>(&v.data)) {
    h += static_cast<uint64_t>(*i);
  } else if (const auto* d = std::get_if<double>(&v.data)) {
    h += *d > 0 ? 1 : 2;
  } else if (const auto* b = std::get_if<bool>(&v.data)) {
    h += *b;
  } else if (const silica::GgufArray* a = v.array()) {
    h += static_cast<uint64_t>(a->elem_type);
    for (const GgufValue& item : a->items) h += Touch(item);
  }
  return h;
}

Shape MakeShape(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.rank++] = d;
  return s;
}

void WriteSeed(const std::string& dir, const std::string& name,
               uint32_t version, uint32_t alignment) {
  GgufWriter w;
  (void)w.SetVersion(version);
  (void)w.Set("general.architecture", GgufValue::String("llama"));
  if (alignment != 32)
    (void)w.Set("general.alignment", GgufValue::U32(alignment));
  (void)w.Set("llama.context_length", GgufValue::U32(128));
  (void)w.Set("llama.attention.head_count", GgufValue::U32(2));
  (void)w.Set("u8", GgufValue{GgufType::kUint8, uint64_t{7}});
  (void)w.Set("i16", GgufValue{GgufType::kInt16, int64_t{-3}});
  (void)w.Set("i64", GgufValue{GgufType::kInt64, int64_t{-5}});
  (void)w.Set("f64", GgufValue{GgufType::kFloat64, 0.5});
  (void)w.Set("eps", GgufValue::F32(1e-5f));
  (void)w.Set("flag", GgufValue::Bool(true));
  (void)w.Set("tokenizer.ggml.tokens", GgufValue::StringArray({"a", "bc"}));
  (void)w.Set("scores", GgufValue::F32Array({0.5f, -1.0f}));
  (void)w.Set("nested", GgufValue::Array(GgufType::kArray,
                                         {GgufValue::I32Array({1, 2}),
                                          GgufValue::StringArray({"x"})}));
  (void)w.AddTensor("f32", DType::kF32, MakeShape({2, 4}),
                    std::vector<uint8_t>(32, 1));
  (void)w.AddTensor("q8", DType::kQ8_0, MakeShape({32}),
                    std::vector<uint8_t>(34, 2));
  (void)w.AddTensor("q4k", DType::kQ4_K, MakeShape({1, 256}),
                    std::vector<uint8_t>(144, 3));
  (void)w.AddTensor("bf16", DType::kBF16, MakeShape({1, 1, 1, 3}),
                    std::vector<uint8_t>(6, 4));
  (void)w.WriteFile(dir + "/" + name);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("SILICA_FUZZ_SEED_DIR")) {
    WriteSeed(dir, "seed_v3.gguf", 3, 32);
    WriteSeed(dir, "seed_v2.gguf", 2, 32);
    WriteSeed(dir, "seed_align64.gguf", 3, 64);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A heap copy of exactly `size` bytes so ASan flags any overread.
  const std::vector<uint8_t> bytes(data, data + size);
  auto file = silica::GgufFile::Parse(bytes, "fuzz.gguf");
  if (!file.ok()) return 0;
  const silica::GgufFile& f = **file;
  volatile uint64_t sink = 0;
  for (const auto& [key, value] : f.metadata()) {
    sink = sink + key.size() + Touch(value);
  }
  for (const silica::GgufTensorInfo& t : f.tensors()) {
    const silica::TensorView v = f.View(t);
    const auto* p = static_cast<const uint8_t*>(v.data);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < v.nbytes; ++i) sum += p[i];
    sink = sink + sum + static_cast<uint64_t>(v.NumElements());
  }
  auto summary = silica::SummarizeGguf(f);
  if (summary.ok()) sink = sink + summary->parameter_count;
  (void)f.GetStringArray("tokenizer.ggml.tokens");
  (void)f.GetI32Array("nested");
  (void)f.GetF32Array("scores");
  return 0;
}
