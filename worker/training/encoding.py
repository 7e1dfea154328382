"""Tokenising once, and the batches built from it: dynamic padding, length-sorted evaluation."""

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from shared.data import Example

PAD_MULTIPLE = 8  # fewer distinct batch shapes for the CPU kernels, at most 7 pad tokens a row


class EncodedDataset(Dataset):
    """Token ids per example, computed once; padding happens per batch in the collator."""

    def __init__(self, features: list[dict]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> dict:
        return self.features[index]


def encode(tokenizer, examples: Sequence[Example], label2id: dict[str, int], max_length: int) -> EncodedDataset:
    encoded = tokenizer([e.text for e in examples], truncation=True, max_length=max_length)
    features = []
    for i, example in enumerate(examples):
        row = {key: values[i] for key, values in encoded.items()}
        row["labels"] = label2id[example.label]
        features.append(row)
    return EncodedDataset(features)


def encode_windows(tokenizer, examples: Sequence[Example], label2id: dict[str, int], max_length: int,
                   read_windows: int) -> tuple[list[Example], EncodedDataset, list[int]]:  # fmt: skip
    """For evaluation: the examples shortest first (by their first window), every window the model reads of them
    (classifiers/token_windows.py) shortest first, and the index, in that example order, of each window's example.
    The caller puts its own per-row arrays in the examples' order."""
    from classifiers.token_windows import shortest_first, token_windows

    windows = token_windows(tokenizer, [(e.subject, e.body) for e in examples], max_length, read_windows)
    order = sorted(range(len(examples)), key=lambda i: len(windows[i][0]))
    examples, windows = [examples[i] for i in order], [windows[i] for i in order]
    flat = shortest_first(windows)
    features = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": label2id[examples[row].label]}
                for row, ids in flat]  # fmt: skip
    return examples, EncodedDataset(features), [row for row, _ in flat]


def device_name() -> str:
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"
