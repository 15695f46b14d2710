// `silica generate`: load a model, run one prompt, stream the completion.
//
// One sequence over a paged KV cache with an identity block table: the
// prompt runs as one forward step (all tokens, logits for the last), then
// one token per step. Timing lines go to stderr so stdout is only the text.
//
// --chat wraps the prompt in a minimal chat format hard-wired per family
// (ChatML for SmolLM2 and Qwen, the Gemma turn format, the Llama 3 header
// format); the Jinja chat-template engine of the server replaces it.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/gguf.h"
#include "model/model.h"
#include "silica/commands.h"
#include "silica/default_model.h"
#include "silica/sampling.h"
#include "tokenizer/tokenizer.h"

namespace silica::cli {
namespace {

constexpr int kBlockSize = 16;

struct GenerateOptions {
  std::string model;
  std::string prompt;
  int n = 128;
  SamplingOptions sampling;
  bool ignore_eos = false;
  bool chat = false;
  int threads = 0;
};

Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  if (path.ends_with(".gguf")) {
    ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(path));
    return Tokenizer::FromGguf(*gguf);
  }
  return Tokenizer::FromHfDir(path);
}

// The prompt in the model's chat format, chosen by the special tokens its
// vocabulary has. Default system prompts are the ones the models' own
// templates insert when the conversation has none.
Result<std::string> ApplyChatFormat(const Tokenizer& tok,
                                    const std::string& user) {
  const std::string& tmpl = tok.chat_template();
  if (tok.TokenId("<start_of_turn>").has_value()) {
    return "<start_of_turn>user\n" + user +
           "<end_of_turn>\n<start_of_turn>model\n";
  }
  if (tok.TokenId("<|im_start|>").has_value()) {
    std::string system;
    for (const char* s :
         {"You are a helpful AI assistant named SmolLM, trained by Hugging "
          "Face",
          "You are Qwen, created by Alibaba Cloud. You are a helpful "
          "assistant."}) {
      if (tmpl.find(s) != std::string::npos) system = s;
    }
    std::string out;
    if (!system.empty()) {
      out = "<|im_start|>system\n" + system + "<|im_end|>\n";
    }
    return out + "<|im_start|>user\n" + user +
           "<|im_end|>\n<|im_start|>assistant\n";
  }
  if (tok.TokenId("<|start_header_id|>").has_value()) {
    return "<|start_header_id|>user<|end_header_id|>\n\n" + user +
           "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return Unimplemented(
      "--chat: no built-in chat format for this model's vocabulary (the "
      "chat-template engine is not in yet); run without --chat");
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

Status Generate(const GenerateOptions& o) {
  ASSIGN_OR_RETURN(std::string path, ResolveModelPath(o.model));
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, LoadTokenizer(path));
  CpuBackendOptions bo;
  bo.num_threads = o.threads;
  std::unique_ptr<Backend> backend = CreateCpuBackend(bo);
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(path, *backend));
  const ModelInfo& info = model->info();

  std::string text = o.prompt;
  if (o.chat) {
    ASSIGN_OR_RETURN(text, ApplyChatFormat(*tok, o.prompt));
  }
  EncodeOptions eo;
  eo.add_special = true;
  eo.parse_special = o.chat;
  std::vector<int32_t> tokens = tok->Encode(text, eo);
  if (tokens.empty()) return InvalidArgument("the prompt has no tokens");
  const int n_prompt = static_cast<int>(tokens.size());
  const int max_len = n_prompt + o.n;
  if (info.context_length > 0 && max_len > info.context_length) {
    return InvalidArgument(
        fmt::format("prompt ({} tokens) + -n {} exceeds the context length {}",
                    n_prompt, o.n, info.context_length));
  }

  const int num_blocks = (max_len + kBlockSize - 1) / kBlockSize;
  ASSIGN_OR_RETURN(std::unique_ptr<KVCacheTensors> kv,
                   KVCacheTensors::Allocate(
                       model->KVShape(num_blocks, kBlockSize, DType::kF16)));
  // One sequence owning blocks 0..num_blocks-1, so slot = position.
  std::vector<int32_t> block_table(static_cast<size_t>(num_blocks));
  for (int b = 0; b < num_blocks; ++b) block_table[static_cast<size_t>(b)] = b;

  std::vector<float> logits(static_cast<size_t>(info.vocab_size));
  std::vector<int32_t> positions, slots;
  int32_t query_start[2] = {0, 0};
  int32_t seq_len = 0;
  // Runs tokens [first, first + count) of `tokens`; logits of the last.
  auto step = [&](int first, int count) -> Status {
    positions.resize(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i)
      positions[static_cast<size_t>(i)] = first + i;
    slots = positions;
    query_start[1] = count;
    seq_len = first + count;
    const int32_t last_row = count - 1;
    BatchInputs in;
    in.token_ids = std::span<const int32_t>(tokens).subspan(
        static_cast<size_t>(first), static_cast<size_t>(count));
    in.positions = positions;
    in.slot_mapping = slots;
    in.attention.num_seqs = 1;
    in.attention.query_start = query_start;
    in.attention.seq_lens = &seq_len;
    in.attention.block_table = block_table.data();
    in.attention.max_blocks_per_seq = num_blocks;
    in.logits_rows = std::span<const int32_t>(&last_row, 1);
    return model->Forward(in, *kv, logits.data());
  };

  const auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(step(0, n_prompt));
  const auto t1 = std::chrono::steady_clock::now();

  SimpleSampler sampler(o.sampling);
  IncrementalDecoder decoder(*tok);
  int generated = 0;
  while (generated < o.n) {
    const int32_t id = sampler.Sample(logits);
    bool stop = false;
    if (!o.ignore_eos) {
      stop = tok->IsEog(id);
      for (int32_t e : info.eos_token_ids) stop |= id == e;
    }
    if (stop) break;  // the end-of-generation token is not counted
    ++generated;
    std::fputs(decoder.Add(id).c_str(), stdout);
    std::fflush(stdout);
    if (generated == o.n) break;
    tokens.push_back(id);
    RETURN_IF_ERROR(step(static_cast<int>(tokens.size()) - 1, 1));
  }
  std::fputs(decoder.Flush().c_str(), stdout);
  std::fputs("\n", stdout);
  std::fflush(stdout);
  const auto t2 = std::chrono::steady_clock::now();

  const double pp = Seconds(t1 - t0), tg = Seconds(t2 - t1);
  std::fprintf(stderr, "prompt: %d tokens, %.2f tok/s\n", n_prompt,
               pp > 0 ? n_prompt / pp : 0.0);
  std::fprintf(stderr, "generation: %d tokens, %.2f tok/s\n", generated,
               tg > 0 ? generated / tg : 0.0);
  return Status::Ok();
}

}  // namespace

void AddGenerateCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Complete a prompt with a model and stream the text to stdout; timing "
      "goes to stderr");
  cmd->add_option("-m,--model", opts->model,
                  "GGUF file or Hugging Face model folder (default: the "
                  "embedded SmolLM2-135M-Instruct)");
  cmd->add_option("-p,--prompt", opts->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", opts->n, "Tokens to generate")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--temp", opts->sampling.temperature,
                  "Sampling temperature; 0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f))
      ->capture_default_str();
  cmd->add_option("--top-k", opts->sampling.top_k, "Top-k cut; 0 = off")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--top-p", opts->sampling.top_p, "Nucleus cut; 1 = off")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--seed", opts->sampling.seed, "Sampling seed")
      ->capture_default_str();
  cmd->add_flag("--ignore-eos", opts->ignore_eos,
                "Keep generating past end-of-generation tokens");
  cmd->add_flag("--chat", opts->chat,
                "Wrap the prompt as one user turn in a minimal built-in chat "
                "format (ChatML for SmolLM2/Qwen, Gemma turns, Llama 3 "
                "headers); the model's own Jinja template is not used yet");
  cmd->add_option("--threads", opts->threads,
                  "Worker threads; 0 = all CPUs this process may use")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([opts, exit_code] {
    Status st = Generate(*opts);
    if (!st.ok()) {
      std::fprintf(stderr, "silica generate: %s\n", st.ToString().c_str());
      *exit_code = 1;
    }
  });
}

}  // namespace silica::cli
