"""Random-initialised models of the registry's sizes, built from their configs where no weights can be downloaded
(the GPU box measures speed and memory, not quality, so random weights do).

    python perf/random_models.py bge-m3 DIR [--data FILE]      # a local folder, loadable as --model DIR
    python perf/random_models.py bge-m3 DIR --hub-cache CACHE  # laid out as CACHE/models--.../snapshots/<pinned>/

Sizes: "minilm" is all-MiniLM-L6-v2 (BERT, 6 x 384, 22.7M), "bge-m3" is XLM-R large (24 x 1024, 250002-token
vocabulary, 568M), "deberta-small" is DeBERTa-v3 small (6 x 768, 128100-token vocabulary, 142M). The tokenizer is a
WordPiece trained on the data file (8000 tokens, so emails keep a realistic length in tokens); the config keeps the
real vocabulary size, so embedding memory is real. Works with older transformers (4.4x) as well as ours.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {
    "minilm": ("bert", dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                            intermediate_size=1536, max_position_embeddings=512)),
    "bge-m3": ("xlm-roberta", dict(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                   intermediate_size=4096, max_position_embeddings=8194, type_vocab_size=1)),
    "deberta-small": ("deberta-v2", dict(vocab_size=128100, hidden_size=768, num_hidden_layers=6,
                                         num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512,
                                         relative_attention=True, position_buckets=256, pos_att_type=["p2c", "c2p"],
                                         norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
                                         type_vocab_size=0, max_relative_positions=-1)),
}  # fmt: skip


def texts(data: Path) -> list[str]:
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [f"{row.get('subject', '')} [SEP] {row.get('body', '')[:400]}" for row in rows]


def wordpiece_tokenizer(data: Path, vocab_size: int = 8000):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts(data), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)  # fmt: skip


def build(size: str, folder: Path, data: Path, seed: int = 0) -> Path:
    """Save a random model of `size` with a 3-label NLI-style head, and its tokenizer, into `folder`."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    model_type, values = SIZES[size]
    tokenizer = wordpiece_tokenizer(data)
    config = AutoConfig.for_model(model_type, **values, num_labels=3, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    if size == "bge-m3":
        model = model.half()  # as MoritzLaurer/bge-m3-zeroshot-v2.0 stores it; training loads it as fp32
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def build_in_hub_cache(size: str, cache: Path, data: Path) -> Path:
    """The model as `pull` would leave it: CACHE/models--org--name/snapshots/<pinned commit>/, refs/main."""
    sys.path.insert(0, str(ROOT))
    from shared.registry import FINETUNE_BASES

    spec = FINETUNE_BASES[size]
    entry = cache / f"models--{spec.base_model.replace('/', '--')}"
    folder = build(size, entry / "snapshots" / spec.revision, data)
    (entry / "refs").mkdir(parents=True, exist_ok=True)
    (entry / "refs" / "main").write_text(spec.revision)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT / "data/email_score.jsonl.example")
    parser.add_argument("--hub-cache", action="store_true", help="lay it out as a Hugging Face cache entry in DIR")
    args = parser.parse_args()
    print((build_in_hub_cache if args.hub_cache else build)(args.size, args.dir, args.data))


if __name__ == "__main__":
    main()
