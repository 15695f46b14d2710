// Golden (de)quantization: silica's GGUF reader and reference kernels
// against gguf-py, the `gguf` package on PyPI (gguf.quants and GGUFReader),
// an implementation nobody on this project wrote.
//
// Data: tests/golden/data/dequant_*.json, written by
// scripts/gen-dequant-golden.py (gguf 0.19.0, numpy 2.4) from
//  * real tensors of SmolLM2-135M-Instruct Q4_1 and Gemma 3 270M Q4_K_M
//    (scripts/fetch-models puts them in $SILICA_MODELS_DIR): the first and
//    last row of a few tensors of every dtype each file contains, plus the
//    model facts GGUFReader sees (compared with SummarizeGguf);
//  * random blocks of every dtype DequantizeRow supports, and gguf-py's
//    quantize() of random rows (Q8_0, Q4_0, Q4_1, F16, BF16), which
//    QuantizeRow must reproduce byte for byte.
// Both sides compute in float32 in the same order, so values are expected to
// be identical; a 1e-6 relative slack (of the row's largest value) allows
// for fused multiply-add in a build that enables it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_config.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

using nlohmann::json;

std::string ModelsDir() {
  if (const char* d = std::getenv("SILICA_MODELS_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/silica/models";
}

json LoadGolden(const std::string& name) {
  const std::string path =
      std::string(SILICA_SOURCE_DIR) + "/tests/golden/data/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " is missing: run "
                         << "scripts/gen-dequant-golden.py";
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << path << ": not valid JSON";
  return j;
}

DType TypeFromName(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  auto d = DTypeFromName(name);
  EXPECT_TRUE(d.has_value()) << "unknown type " << name;
  return d.value_or(DType::kF32);
}

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

// Counts mismatches beyond the tolerance and reports the first few.
void CompareRow(const std::vector<float>& got, const json& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  float amax = 0.0f;
  for (const auto& w : want) amax = std::max(amax, std::fabs(w.get<float>()));
  int bad = 0;
  int inexact = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float w = want[i].get<float>();
    if (got[i] == w) continue;
    ++inexact;
    if (std::fabs(got[i] - w) <= 1e-6f * amax) continue;
    if (++bad <= 5) {
      ADD_FAILURE() << what << " element " << i << ": silica " << got[i]
                    << ", gguf-py " << w;
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size()
                    << " values differ";
  if (inexact > 0) {
    std::printf("note: %s: %d values within tolerance but not identical\n",
                what.c_str(), inexact);
  }
}

void CheckRealModel(const std::string& golden_name) {
  const json g = LoadGolden(golden_name);
  ASSERT_TRUE(g.is_object());
  const std::string rel = g["model"].get<std::string>();
  const std::string path = ModelsDir() + "/" + rel;
  auto opened = GgufFile::Open(path);
  // A missing model is a failure, not a skip: the golden tier must run.
  ASSERT_TRUE(opened.ok()) << opened.status().ToString()
                           << "\nThe real model is missing: run "
                              "scripts/fetch-models (models dir "
                           << ModelsDir() << ", set SILICA_MODELS_DIR)";
  const GgufFile& f = **opened;
  ASSERT_EQ(f.file_size(), g["model_size"].get<uint64_t>())
      << path << " is not the file the golden data was made from";

  // Model facts, as gguf-py's GGUFReader reads them.
  const json& s = g["summary"];
  auto sum = SummarizeGguf(f);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->architecture, s["architecture"].get<std::string>());
  EXPECT_EQ(sum->name, s["name"].get<std::string>());
  EXPECT_EQ(sum->context_length, s["context_length"].get<uint64_t>());
  EXPECT_EQ(sum->embedding_length, s["embedding_length"].get<uint64_t>());
  EXPECT_EQ(sum->block_count, s["block_count"].get<uint64_t>());
  EXPECT_EQ(sum->head_count, s["head_count"].get<uint64_t>());
  EXPECT_EQ(sum->head_count_kv, s["head_count_kv"].get<uint64_t>());
  EXPECT_EQ(sum->vocab_size, s["vocab_size"].get<uint64_t>());
  EXPECT_EQ(sum->tokenizer_model, s["tokenizer_model"].get<std::string>());
  EXPECT_EQ(sum->tokenizer_pre, s["tokenizer_pre"].get<std::string>());
  EXPECT_EQ(sum->has_chat_template, s["has_chat_template"].get<bool>());
  EXPECT_EQ(sum->parameter_count, s["parameter_count"].get<uint64_t>());
  EXPECT_EQ(sum->tensor_count, s["tensor_count"].get<uint64_t>());
  EXPECT_EQ(f.metadata().size(), s["metadata_count"].get<size_t>());

  int rows_checked = 0;
  for (const json& t : g["tensors"]) {
    const std::string name = t["name"].get<std::string>();
    const GgufTensorInfo* info = f.FindTensor(name);
    ASSERT_NE(info, nullptr) << name;
    const DType dtype = TypeFromName(t["type"].get<std::string>());
    EXPECT_EQ(info->dtype, dtype) << name;
    const auto shape = t["shape"].get<std::vector<int64_t>>();
    ASSERT_EQ(info->shape.rank, static_cast<int>(shape.size())) << name;
    for (size_t d = 0; d < shape.size(); ++d) {
      EXPECT_EQ(info->shape.dims[d], shape[d]) << name << " dim " << d;
    }
    const TensorView view = f.View(*info);
    const uint64_t row_bytes = view.RowBytes();
    const int64_t elems = t["elems_per_row"].get<int64_t>();
    for (const json& r : t["rows"]) {
      const int64_t row = r["row"].get<int64_t>();
      ASSERT_LT(row, view.Rows()) << name;
      const auto* src =
          static_cast<const uint8_t*>(view.data) + row * row_bytes;
      std::vector<float> got(elems);
      const Status st = DequantizeRow(dtype, src, got.data(), elems);
      ASSERT_TRUE(st.ok()) << st.ToString();
      CompareRow(got, r["values"],
                 rel + " " + name + " row " + std::to_string(row));
      ++rows_checked;
    }
  }
  EXPECT_GE(rows_checked, 6);
}

TEST(DequantGoldenTest, SmolLM2RealTensors) {
  CheckRealModel("dequant_smollm2.json");
}

TEST(DequantGoldenTest, Gemma3RealTensors) {
  CheckRealModel("dequant_gemma3.json");
}

TEST(DequantGoldenTest, SyntheticBlocksOfEveryType) {
  const json g = LoadGolden("dequant_synthetic.json");
  ASSERT_TRUE(g.is_object());
  std::vector<std::string> seen;
  for (const json& c : g["dequant"]) {
    const std::string type = c["type"].get<std::string>();
    const DType dtype = TypeFromName(type);
    const int64_t n = c["n"].get<int64_t>();
    const auto bytes = FromHex(c["bytes_hex"].get<std::string>());
    ASSERT_EQ(bytes.size(), *RowBytes(dtype, n)) << type;
    std::vector<float> got(n);
    const Status st = DequantizeRow(dtype, bytes.data(), got.data(), n);
    ASSERT_TRUE(st.ok()) << st.ToString();
    CompareRow(got, c["values"], "synthetic " + type);
    seen.push_back(type);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"F32", "F16", "BF16", "Q8_0",
                                            "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                            "Q4_K", "Q5_K", "Q6_K"}));
}

TEST(DequantGoldenTest, QuantizeMatchesGgufPyByteForByte) {
  const json g = LoadGolden("dequant_synthetic.json");
  ASSERT_TRUE(g.is_object());
  int cases = 0;
  for (const json& c : g["quantize"]) {
    const std::string type = c["type"].get<std::string>();
    const DType dtype = TypeFromName(type);
    const auto input = c["input"].get<std::vector<float>>();
    const auto want = FromHex(c["expected_hex"].get<std::string>());
    const auto n = static_cast<int64_t>(input.size());
    std::vector<uint8_t> got(*RowBytes(dtype, n));
    ASSERT_EQ(got.size(), want.size()) << type;
    const Status st = QuantizeRow(dtype, input.data(), got.data(), n);
    ASSERT_TRUE(st.ok()) << st.ToString();
    size_t first_diff = got.size();
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] != want[i]) {
        first_diff = i;
        break;
      }
    }
    EXPECT_EQ(first_diff, got.size())
        << type << ": first differing byte " << first_diff;
    ++cases;
  }
  EXPECT_EQ(cases, 5);
}

}  // namespace
}  // namespace silica
