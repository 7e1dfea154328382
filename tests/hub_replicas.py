"""Tiny random stand-ins for the registry's hub models: same architecture, same head, same file layout, no download.

- deberta_nli(folder, tokenizer="spm"|"json"): DeBERTa-v2/v3 as cross-encoder/nli-deberta-v3-small ships it: a
  3-label NLI head (contradiction, entailment, neutral), relative attention, a SentencePiece spm.model with [MASK]
  in added_tokens.json; "spm" is the older layout without tokenizer.json (the slow->fast conversion runs on load),
  "json" adds the tokenizer.json newer commits carry.
- xlmr_nli(folder): XLM-RoBERTa as MoritzLaurer/bge-m3-zeroshot-v2.0: 2-label head (entailment, not_entailment),
  float16 weights (1.1 GB for 568M parameters on the hub), sentencepiece.bpe.model plus tokenizer.json.
- cache_entry(cache, hub_id, revision, build): lays a replica out as a Hugging Face cache entry,
  models--org--name/snapshots/<revision>/ with refs/main, which is what `pull` leaves behind.
The SentencePiece models are trained here on the example emails (vocab ~160, well under a second).
"""

import io
import json
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
DEBERTA_NLI_LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}
XLMR_NLI_LABELS = {0: "entailment", 1: "not_entailment"}
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def _sentences() -> list[str]:
    rows = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
    extra = ["This email is about a job interview.", "[SEP] <s> </s> not entailment contradiction neutral"]
    return [text for row in rows for text in (row["subject"], row["body"])] + extra


def train_spm(path: Path, **special) -> int:
    """A unigram SentencePiece model at `path`; returns its vocabulary size."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_sentences() * 3), model_writer=buffer, vocab_size=160, model_type="unigram",
        hard_vocab_limit=False, minloglevel=2, **special,
    )  # fmt: skip
    path.write_bytes(buffer.getvalue())
    return spm.SentencePieceProcessor(model_proto=buffer.getvalue()).get_piece_size()


def deberta_nli(folder: Path, tokenizer: str = "spm", seed: int = 0, hidden: int = 32) -> Path:
    import torch
    from transformers import AutoTokenizer, DebertaV2Config, DebertaV2ForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    size = train_spm(folder / "spm.model", pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]",
                     bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]")  # fmt: skip
    special = {"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "[UNK]", "sep_token": "[SEP]",
               "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}  # fmt: skip
    (folder / "added_tokens.json").write_text(json.dumps({"[MASK]": size}))
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "do_lower_case": False, "vocab_type": "spm", "split_by_punct": False, "model_max_length": 512,
        "tokenizer_class": "DebertaV2Tokenizer",
    }))  # fmt: skip
    config = DebertaV2Config(
        **{**TINY, "hidden_size": hidden}, vocab_size=size + 40, max_position_embeddings=512, type_vocab_size=0,
        relative_attention=True, position_buckets=16, max_relative_positions=-1, pos_att_type=["p2c", "c2p"],
        norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False, layer_norm_eps=1e-7,
        pooler_hidden_size=hidden, pooler_hidden_act="gelu", pooler_dropout=0, num_labels=3,
        id2label=DEBERTA_NLI_LABELS, label2id={v: k for k, v in DEBERTA_NLI_LABELS.items()},
    )  # fmt: skip
    torch.manual_seed(seed)
    DebertaV2ForSequenceClassification(config).save_pretrained(folder)
    if tokenizer == "json":
        AutoTokenizer.from_pretrained(folder).backend_tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def xlmr_nli(folder: Path, seed: int = 0, hidden: int = 32) -> Path:
    import torch
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    train_spm(folder / "sentencepiece.bpe.model")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLMRobertaTokenizer",
                                                              "model_max_length": 512}))  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    config = XLMRobertaConfig(
        **{**TINY, "hidden_size": hidden}, vocab_size=len(tokenizer), max_position_embeddings=514, type_vocab_size=1,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, num_labels=2, id2label=XLMR_NLI_LABELS,
        label2id={v: k for k, v in XLMR_NLI_LABELS.items()},
    )  # fmt: skip
    torch.manual_seed(seed)
    XLMRobertaForSequenceClassification(config).half().save_pretrained(folder)  # the hub checkpoint is float16
    return folder


def cache_entry(cache: Path, hub_id: str, revision: str, build: Callable[[Path], Path], main: str | None = None):
    """build() a replica into cache/models--org--name/snapshots/<revision>/; refs/main names `main` (default the
    same revision: a fresh pull), so a test can make the branch move on without the pinned snapshot changing."""
    entry = cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = build(entry / "snapshots" / revision)
    (entry / "refs").mkdir(parents=True, exist_ok=True)
    (entry / "refs" / "main").write_text(main or revision)
    return snapshot


def tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))
