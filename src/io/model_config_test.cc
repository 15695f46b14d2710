#include "io/model_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"

namespace silica {
namespace {

using nlohmann::json;

std::string Fixture(const std::string& file) {
  return std::string(SILICA_SOURCE_DIR) + "/src/io/testdata/" + file;
}

ModelConfig MustLoad(const std::string& file) {
  auto c = LoadModelConfig(Fixture(file));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : ModelConfig();
}

json FixtureJson(const std::string& file) {
  auto text = ReadFileToString(Fixture(file));
  EXPECT_TRUE(text.ok());
  return json::parse(*text);
}

// Applies `edit` to a fixture and expects ParseModelConfig to fail with
// InvalidArgument naming every one of `parts`.
void ExpectBad(const std::string& file, const std::function<void(json&)>& edit,
               const std::vector<std::string>& parts,
               StatusCode code = StatusCode::kInvalidArgument) {
  json j = FixtureJson(file);
  edit(j);
  auto c = ParseModelConfig(j.dump(), "bad/config.json");
  ASSERT_FALSE(c.ok()) << "accepted: " << j.dump();
  EXPECT_EQ(c.status().code(), code) << c.status().message();
  const std::string& msg = c.status().message();
  EXPECT_NE(msg.find("bad/config.json"), std::string::npos) << msg;
  for (const std::string& p : parts) {
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

bool AllFull(const ModelConfig& c) {
  for (AttentionKind k : c.layer_types) {
    if (k != AttentionKind::kFull) return false;
  }
  return static_cast<int64_t>(c.layer_types.size()) == c.num_hidden_layers;
}

TEST(ModelConfigTest, SmolLM2_135M) {
  const ModelConfig c = MustLoad("smollm2-135m-instruct.config.json");
  EXPECT_EQ(c.family, ModelFamily::kLlama);
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(c.num_attention_heads, 9);
  EXPECT_EQ(c.num_key_value_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope.type, RopeType::kDefault);
  EXPECT_DOUBLE_EQ(c.rope.theta, 100000.0);  // an integer in the JSON
  EXPECT_TRUE(c.rope.mrope_section.empty());
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_EQ(c.pad_token_id, 2);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.dtype, DType::kBF16);
  EXPECT_EQ(c.activation, Activation::kSilu);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_TRUE(AllFull(c));
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_FALSE(c.vision.has_value());
  EXPECT_FALSE(c.query_pre_attn_scalar.has_value());
}

TEST(ModelConfigTest, Llama32_1B) {
  const ModelConfig c = MustLoad("llama-3.2-1b.config.json");
  EXPECT_EQ(c.family, ModelFamily::kLlama);
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 8192);
  EXPECT_EQ(c.num_hidden_layers, 16);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.rope.type, RopeType::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.rope.factor, 32.0);
  EXPECT_DOUBLE_EQ(c.rope.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.rope_local.type, RopeType::kLlama3);  // same as rope
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{128001});
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(ModelConfigTest, Qwen25_05B) {
  const ModelConfig c = MustLoad("qwen2.5-0.5b-instruct.config.json");
  EXPECT_EQ(c.family, ModelFamily::kQwen2);
  EXPECT_EQ(c.architecture, "Qwen2ForCausalLM");
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.hidden_size, 896);
  EXPECT_EQ(c.intermediate_size, 4864);
  EXPECT_EQ(c.num_hidden_layers, 24);
  EXPECT_EQ(c.num_attention_heads, 14);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 64);  // 896 / 14
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_TRUE(c.qkv_bias);  // hard-wired for Qwen2
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_TRUE(AllFull(c));  // use_sliding_window false
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(ModelConfigTest, Qwen3_06B) {
  const ModelConfig c = MustLoad("qwen3-0.6b.config.json");
  EXPECT_EQ(c.family, ModelFamily::kQwen3);
  EXPECT_EQ(c.hidden_size, 1024);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.num_hidden_layers, 28);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 8);
  // 16 heads x 128 = 2048 != hidden_size 1024: head_dim is explicit.
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_position_embeddings, 40960);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope.type, RopeType::kDefault);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
  EXPECT_FALSE(c.sliding_window.has_value());
}

TEST(ModelConfigTest, Gemma3_270M) {
  const ModelConfig c = MustLoad("gemma-3-270m.config.json");
  EXPECT_EQ(c.family, ModelFamily::kGemma3Text);
  EXPECT_EQ(c.architecture, "Gemma3ForCausalLM");
  EXPECT_EQ(c.vocab_size, 262144);
  EXPECT_EQ(c.hidden_size, 640);
  EXPECT_EQ(c.intermediate_size, 2048);
  EXPECT_EQ(c.num_hidden_layers, 18);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);
  EXPECT_EQ(c.hidden_act, "gelu_pytorch_tanh");
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.tie_word_embeddings);  // Gemma default
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope.type, RopeType::kDefault);
  EXPECT_DOUBLE_EQ(c.rope_local.theta, 10000.0);
  EXPECT_EQ(c.query_pre_attn_scalar, 256.0);
  EXPECT_FALSE(c.final_logit_softcapping.has_value());
  EXPECT_FALSE(c.attn_logit_softcapping.has_value());
  EXPECT_EQ(c.sliding_window, 512);
  ASSERT_EQ(c.layer_types.size(), 18u);
  for (int i = 0; i < 18; ++i) {
    EXPECT_EQ(c.layer_types[i],
              (i + 1) % 6 == 0 ? AttentionKind::kFull : AttentionKind::kSliding)
        << i;
  }
  EXPECT_EQ(c.bos_token_id, 2);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{1});
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_FALSE(c.image_token_id.has_value());
}

TEST(ModelConfigTest, Gemma3MultimodalNestsTextConfig) {
  // Shape of google/gemma-3-4b-it: most text fields left to defaults.
  const ModelConfig c = MustLoad("gemma-3-4b-it.config.json");
  EXPECT_EQ(c.family, ModelFamily::kGemma3Text);
  EXPECT_EQ(c.model_type, "gemma3");
  EXPECT_EQ(c.architecture, "Gemma3ForConditionalGeneration");
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.intermediate_size, 10240);
  EXPECT_EQ(c.num_hidden_layers, 34);
  EXPECT_EQ(c.num_attention_heads, 8);   // default
  EXPECT_EQ(c.num_key_value_heads, 4);   // default
  EXPECT_EQ(c.head_dim, 256);            // default
  EXPECT_EQ(c.vocab_size, 262208);       // default
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.rope.type, RopeType::kLinear);
  EXPECT_DOUBLE_EQ(c.rope.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope_local.type, RopeType::kDefault);  // linear on global only
  EXPECT_DOUBLE_EQ(c.rope_local.theta, 10000.0);
  EXPECT_EQ(c.sliding_window, 1024);
  ASSERT_EQ(c.layer_types.size(), 34u);
  EXPECT_EQ(c.layer_types[4], AttentionKind::kSliding);
  EXPECT_EQ(c.layer_types[5], AttentionKind::kFull);  // pattern 6 default
  EXPECT_EQ((std::vector<int64_t>{1, 106}), c.eos_token_ids);  // top level
  EXPECT_EQ(c.image_token_id, 262144);
  EXPECT_EQ(c.vision_start_token_id, 255999);
  EXPECT_EQ(c.vision_end_token_id, 256000);
  EXPECT_EQ(c.dtype, DType::kBF16);
}

void ExpectQwen25VL3B(const ModelConfig& c) {
  EXPECT_EQ(c.family, ModelFamily::kQwen2_5_VL);
  EXPECT_EQ(c.architecture, "Qwen2_5_VLForConditionalGeneration");
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 11008);
  EXPECT_EQ(c.num_hidden_layers, 36);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_position_embeddings, 128000);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope.type, RopeType::kDefault);  // "mrope" = default + 3-D ids
  EXPECT_EQ(c.rope.mrope_section, (std::vector<int64_t>{16, 24, 24}));
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(AllFull(c));
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
  EXPECT_EQ(c.image_token_id, 151655);
  EXPECT_EQ(c.video_token_id, 151656);
  EXPECT_EQ(c.vision_start_token_id, 151652);
  EXPECT_EQ(c.vision_end_token_id, 151653);
  ASSERT_TRUE(c.vision.has_value());
  const VisionConfig& v = *c.vision;
  EXPECT_EQ(v.depth, 32);
  EXPECT_EQ(v.hidden_size, 1280);
  EXPECT_EQ(v.intermediate_size, 3420);
  EXPECT_EQ(v.num_heads, 16);
  EXPECT_EQ(v.head_dim, 80);
  EXPECT_EQ(v.in_channels, 3);
  EXPECT_EQ(v.patch_size, 14);
  EXPECT_EQ(v.spatial_merge_size, 2);
  EXPECT_EQ(v.temporal_patch_size, 2);
  EXPECT_EQ(v.window_size, 112);
  EXPECT_EQ(v.out_hidden_size, 2048);
  EXPECT_EQ(v.tokens_per_second, 2);
  EXPECT_EQ(v.fullatt_block_indexes, (std::vector<int64_t>{7, 15, 23, 31}));
  EXPECT_EQ(v.activation, Activation::kSilu);
}

TEST(ModelConfigTest, Qwen25VL_3B) {
  ExpectQwen25VL3B(MustLoad("qwen2.5-vl-3b-instruct.config.json"));
}

TEST(ModelConfigTest, Qwen25VLWithTextConfig) {
  // transformers >= 4.52 saves the text fields under text_config too, with
  // null placeholders for the multimodal ids; 5.x drops them from the top.
  json top = FixtureJson("qwen2.5-vl-3b-instruct.config.json");
  json text = json::object();
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size",
                          "num_hidden_layers", "num_attention_heads",
                          "num_key_value_heads", "max_position_embeddings",
                          "rms_norm_eps", "rope_theta", "rope_scaling",
                          "bos_token_id", "eos_token_id", "hidden_act"}) {
    text[key] = top[key];
  }
  text["model_type"] = "qwen2_5_vl_text";
  text["image_token_id"] = nullptr;
  text["video_token_id"] = nullptr;
  json both = top;
  both["text_config"] = text;
  auto c = ParseModelConfig(both.dump());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectQwen25VL3B(*c);

  json nested = top;
  for (auto it = text.begin(); it != text.end(); ++it) {
    if (it.key() != "model_type" && !it->is_null()) nested.erase(it.key());
  }
  nested["text_config"] = text;
  nested["text_config"]["tie_word_embeddings"] = true;
  nested["tie_word_embeddings"] = false;  // top-level default in a 5.x save
  c = ParseModelConfig(nested.dump());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectQwen25VL3B(*c);

  // An error inside text_config names it.
  nested["text_config"]["hidden_size"] = "2048";
  c = ParseModelConfig(nested.dump(), "vl.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("vl.json: text_config.hidden_size"),
            std::string::npos)
      << c.status().message();
}

TEST(ModelConfigTest, Transformers5RopeParameters) {
  json j = FixtureJson("llama-3.2-1b.config.json");
  j["rope_parameters"] = j["rope_scaling"];
  j["rope_parameters"]["rope_theta"] = 500000.0;
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["dtype"] = j["torch_dtype"];
  j.erase("torch_dtype");
  auto c = ParseModelConfig(j.dump());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope.type, RopeType::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope.theta, 500000.0);
  EXPECT_DOUBLE_EQ(c->rope.factor, 32.0);
  EXPECT_EQ(c->rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(c->dtype, DType::kBF16);

  json g = FixtureJson("gemma-3-270m.config.json");
  g.erase("rope_theta");
  g.erase("rope_local_base_freq");
  g["rope_parameters"] = {
      {"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}}};
  c = ParseModelConfig(g.dump());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope.type, RopeType::kLinear);
  EXPECT_DOUBLE_EQ(c->rope.factor, 8.0);
  EXPECT_DOUBLE_EQ(c->rope.theta, 1e6);
  EXPECT_EQ(c->rope_local.type, RopeType::kDefault);
  EXPECT_DOUBLE_EQ(c->rope_local.theta, 10000.0);
}

TEST(ModelConfigTest, YarnAndSlidingQwen) {
  json j = FixtureJson("qwen3-0.6b.config.json");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0},
                       {"original_max_position_embeddings", 32768}};
  j["use_sliding_window"] = true;
  j["sliding_window"] = 4096;
  j["max_window_layers"] = 20;
  auto c = ParseModelConfig(j.dump());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope.type, RopeType::kYarn);
  EXPECT_DOUBLE_EQ(c->rope.factor, 4.0);
  EXPECT_EQ(c->rope.original_max_position_embeddings, 32768);
  EXPECT_DOUBLE_EQ(c->rope.beta_fast, 32.0);
  EXPECT_DOUBLE_EQ(c->rope.beta_slow, 1.0);
  EXPECT_FALSE(c->rope.attention_factor.has_value());
  EXPECT_EQ(c->sliding_window, 4096);
  EXPECT_EQ(c->layer_types[19], AttentionKind::kFull);
  EXPECT_EQ(c->layer_types[20], AttentionKind::kSliding);
  EXPECT_EQ(c->layer_types[27], AttentionKind::kSliding);
}

TEST(ModelConfigTest, MissingOrWrongFieldsAreNamed) {
  const std::string smol = "smollm2-135m-instruct.config.json";
  ExpectBad(smol, [](json& j) { j.erase("hidden_size"); },
            {"hidden_size", "missing required field"});
  ExpectBad(smol, [](json& j) { j.erase("model_type"); }, {"model_type", "missing"});
  ExpectBad(smol, [](json& j) { j["model_type"] = "mistral"; },
            {"model_type 'mistral' is not supported"});
  ExpectBad(smol, [](json& j) { j["num_hidden_layers"] = 0; },
            {"num_hidden_layers", "0 is out of range"});
  ExpectBad(smol, [](json& j) { j["num_attention_heads"] = "9"; },
            {"num_attention_heads", "expected an integer, got string"});
  ExpectBad(smol, [](json& j) { j["vocab_size"] = 49152.5; },
            {"vocab_size", "expected an integer, got number"});
  ExpectBad(smol, [](json& j) { j["vocab_size"] = -1; }, {"vocab_size", "out of range"});
  ExpectBad(smol, [](json& j) { j["tie_word_embeddings"] = 1; },
            {"tie_word_embeddings", "expected true or false"});
  ExpectBad(smol,
            [](json& j) {
              j.erase("head_dim");
              j["num_attention_heads"] = 7;
              j["num_key_value_heads"] = 7;
            },
            {"num_attention_heads", "does not divide hidden_size 576"});
  ExpectBad(smol, [](json& j) { j["num_key_value_heads"] = 4; },
            {"num_key_value_heads", "does not divide num_attention_heads 9"});
  ExpectBad(smol, [](json& j) { j["num_key_value_heads"] = 18; },
            {"num_key_value_heads", "out of range"});
  ExpectBad(smol, [](json& j) { j["head_dim"] = 63; }, {"head_dim", "even"});
  ExpectBad(smol, [](json& j) { j["rms_norm_eps"] = -1e-5; }, {"rms_norm_eps"});
  ExpectBad(smol, [](json& j) { j["rope_theta"] = 0; }, {"rope_theta"});
  ExpectBad(smol, [](json& j) { j["eos_token_id"] = 49152; },
            {"eos_token_id", "out of range [0, 49151]"});
  ExpectBad(smol, [](json& j) { j["eos_token_id"] = {2, "x"}; },
            {"eos_token_id[1]", "expected an integer"});
  ExpectBad(smol, [](json& j) { j["hidden_act"] = "relu6"; },
            {"hidden_act", "'relu6' is not supported"});
  ExpectBad(smol, [](json& j) { j["torch_dtype"] = "int4"; }, {"torch_dtype", "int4"});
  ExpectBad(smol, [](json& j) { j["architectures"] = "LlamaForCausalLM"; },
            {"architectures", "array of strings"});
  ExpectBad(smol, [](json& j) { j["rope_scaling"] = 3; },
            {"rope_scaling", "expected an object"});
  ExpectBad(smol, [](json& j) { j["layer_types"] = {"full_attention"}; },
            {"layer_types", "30 strings"});

  const std::string llama = "llama-3.2-1b.config.json";
  ExpectBad(llama, [](json& j) { j["rope_scaling"].erase("low_freq_factor"); },
            {"rope_scaling.low_freq_factor", "missing required field for rope_type llama3"});
  ExpectBad(llama, [](json& j) { j["rope_scaling"]["rope_type"] = "longrope"; },
            {"rope_scaling.rope_type", "'longrope' is not supported"});
  ExpectBad(llama, [](json& j) { j["rope_scaling"]["factor"] = -2; },
            {"rope_scaling.factor"});
  ExpectBad(llama, [](json& j) { j["rope_scaling"]["high_freq_factor"] = 0.5; },
            {"rope_scaling.high_freq_factor", "must exceed low_freq_factor"});

  const std::string gemma = "gemma-3-270m.config.json";
  ExpectBad(gemma, [](json& j) { j["layer_types"][3] = "local"; },
            {"layer_types[3]", "\"local\""});
  ExpectBad(gemma, [](json& j) { j["sliding_window"] = 0; }, {"sliding_window"});
  ExpectBad(gemma, [](json& j) { j["query_pre_attn_scalar"] = "256"; },
            {"query_pre_attn_scalar", "expected a number"});
  ExpectBad(gemma, [](json& j) { j["final_logit_softcapping"] = -30.0; },
            {"final_logit_softcapping"});
  ExpectBad(gemma, [](json& j) { j["use_bidirectional_attention"] = true; },
            {"use_bidirectional_attention"});
  ExpectBad("gemma-3-4b-it.config.json", [](json& j) { j.erase("text_config"); },
            {"text_config", "missing required field"});
  ExpectBad("gemma-3-4b-it.config.json",
            [](json& j) { j["text_config"]["num_hidden_layers"] = -3; },
            {"text_config.num_hidden_layers", "out of range"});
}

TEST(ModelConfigTest, BadVisionConfigsAreNamed) {
  const std::string vl = "qwen2.5-vl-3b-instruct.config.json";
  ExpectBad(vl, [](json& j) { j.erase("vision_config"); },
            {"vision_config", "missing required field"});
  ExpectBad(vl, [](json& j) { j["vision_config"].erase("depth"); },
            {"vision_config.depth", "missing"});
  ExpectBad(vl, [](json& j) { j["vision_config"]["num_heads"] = 12; },
            {"vision_config.num_heads"});
  ExpectBad(vl, [](json& j) { j["vision_config"]["out_hidden_size"] = 3584; },
            {"vision_config.out_hidden_size", "hidden_size 2048"});
  ExpectBad(vl, [](json& j) { j["vision_config"]["window_size"] = 100; },
            {"vision_config.window_size"});
  ExpectBad(vl, [](json& j) { j["vision_config"]["fullatt_block_indexes"] = {7, 32}; },
            {"vision_config.fullatt_block_indexes", "32"});
  ExpectBad(vl, [](json& j) { j["rope_scaling"]["mrope_section"] = {16, 24, 16}; },
            {"rope_scaling.mrope_section", "head_dim / 2 = 64"});
  ExpectBad(vl, [](json& j) { j["rope_scaling"].erase("mrope_section"); },
            {"rope_scaling.mrope_section", "missing"});
  ExpectBad(vl, [](json& j) { j["image_token_id"] = 200000; },
            {"image_token_id", "out of range"});
}

TEST(ModelConfigTest, NotJsonOrNotAnObject) {
  auto c = ParseModelConfig("{\"model_type\": \"llama\",", "x/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(c.status().message().find("x/config.json: invalid JSON"), std::string::npos);
  c = ParseModelConfig("[1]", "x/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("expected a JSON object"), std::string::npos);
  c = ParseModelConfig(R"({"model_type": "llama", "model_type": "qwen2"})", "x");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'model_type' appears twice"), std::string::npos);
  auto missing = LoadModelConfig("/nonexistent/silica/config.json");
  EXPECT_FALSE(missing.ok());
}

TEST(GenerationConfigTest, Fixtures) {
  auto load = [](const std::string& file) {
    auto text = ReadFileToString(Fixture(file));
    EXPECT_TRUE(text.ok());
    auto g = ParseGenerationConfig(*text, file);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : GenerationConfig();
  };
  const GenerationConfig q3 = load("qwen3-0.6b.generation_config.json");
  EXPECT_EQ(q3.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
  EXPECT_EQ(q3.bos_token_id, 151643);
  EXPECT_EQ(q3.pad_token_id, 151643);
  EXPECT_EQ(q3.do_sample, true);
  EXPECT_EQ(q3.temperature, 0.6);
  EXPECT_EQ(q3.top_k, 20);
  EXPECT_EQ(q3.top_p, 0.95);
  EXPECT_FALSE(q3.min_p.has_value());
  EXPECT_FALSE(q3.repetition_penalty.has_value());

  const GenerationConfig q25 = load("qwen2.5-0.5b-instruct.generation_config.json");
  EXPECT_EQ(q25.repetition_penalty, 1.1);
  EXPECT_EQ(q25.top_p, 0.8);
  EXPECT_EQ(q25.temperature, 0.7);

  const GenerationConfig llama = load("llama-3.2-1b.generation_config.json");
  EXPECT_EQ(llama.eos_token_ids, std::vector<int64_t>{128001});
  EXPECT_EQ(llama.top_p, 0.9);
  EXPECT_FALSE(llama.top_k.has_value());

  const GenerationConfig gemma = load("gemma-3-270m-it.generation_config.json");
  EXPECT_EQ(gemma.eos_token_ids, (std::vector<int64_t>{1, 106}));
  EXPECT_EQ(gemma.top_k, 64);
  EXPECT_FALSE(gemma.temperature.has_value());
}

TEST(GenerationConfigTest, BadValuesAreNamed) {
  const auto bad = [](const std::string& text, const std::string& part) {
    auto g = ParseGenerationConfig(text, "gen.json");
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_NE(g.status().message().find("gen.json: " + part), std::string::npos)
        << g.status().message();
  };
  bad(R"({"top_p": 1.5})", "top_p");
  bad(R"({"top_p": 0})", "top_p");
  bad(R"({"temperature": "hot"})", "temperature");
  bad(R"({"temperature": -1})", "temperature");
  bad(R"({"top_k": -5})", "top_k");
  bad(R"({"eos_token_id": [1, -2]})", "eos_token_id");
  bad(R"({"do_sample": "yes"})", "do_sample");
  bad(R"({"max_new_tokens": 0})", "max_new_tokens");
}

TEST(GenerationConfigTest, LoadFromFolder) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "silica_genconfig";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto absent = LoadGenerationConfig(dir.string());
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->has_value());
  fs::copy_file(Fixture("qwen3-0.6b.generation_config.json"), dir / "generation_config.json");
  fs::copy_file(Fixture("qwen3-0.6b.config.json"), dir / "config.json");
  auto present = LoadGenerationConfig(dir.string());
  ASSERT_TRUE(present.ok()) << present.status().ToString();
  ASSERT_TRUE(present->has_value());
  EXPECT_EQ((*present)->top_k, 20);
  auto config = LoadModelConfig(dir.string());  // a folder works too
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->family, ModelFamily::kQwen3);

  // A config.json of 17 MB (sparse) is refused before it is read.
  fs::resize_file(dir / "config.json", 17 << 20);
  config = LoadModelConfig(dir.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("limit"), std::string::npos)
      << config.status().message();
}

}  // namespace
}  // namespace silica
