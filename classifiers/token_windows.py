"""What the transformer reads of an email: its first window of `max_tokens` tokens (the subject, then the start of
the body: the input it is trained on) and, for validation and prediction, up to `read_windows - 1` further windows
that continue the body, each with the subject in front. The row's probabilities are the mean of its windows'.

Why: training reads 96 tokens (more costs time on CPU, and the attention's cost grows with the square of the
length), while office email runs longer: the median dev-set body is ~510 characters, ~120 tokens, and a reply
thread many times that. Reading the rest in windows of the trained length costs only forward passes for the rows
that are that long. Measured on the dev set (perf/quality.py, README "Is a fine-tune worth it?"): a second window
lifts the transformer from 0.858 to 0.877 macro-F1 with 1,904 training rows and lowers it from 0.707 to 0.692 with
400, so jobs read one window unless they ask for more.

Versions without `read_windows` in their hyperparameters read the first window, as they were validated.
"""

from collections.abc import Sequence

import numpy as np

from shared.data import model_text

SUBJECT_SHARE = 3  # a later window gives the subject at most a third of its tokens: it is there for context
SHORTEST_TAIL = 4  # a later window needs at least a quarter of its body room filled, or it is left out
CHARS_PER_TOKEN = 8  # body characters tokenised per window: about twice what a window holds of English text


def token_windows(tokenizer, emails: Sequence[tuple[str, str]], max_tokens: int,
                  read_windows: int) -> list[list[list[int]]]:  # fmt: skip
    """Per (subject, body): its windows' input ids, the first one exactly as training encodes the email."""
    if not emails:
        return []
    firsts = tokenizer([model_text(subject, body) for subject, body in emails], truncation=True,
                       max_length=max_tokens)["input_ids"]  # fmt: skip
    if read_windows <= 1:
        return [[first] for first in firsts]
    plain = {"add_special_tokens": False, "truncation": False, "verbose": False}
    subjects = tokenizer([subject for subject, _ in emails], **plain)["input_ids"]
    reach = CHARS_PER_TOKEN * max_tokens * read_windows
    bodies = tokenizer([body[:reach] for _, body in emails], **plain)["input_ids"]
    marker = tokenizer(" [SEP] ", **plain)["input_ids"]  # model_text's separator, as this tokenizer splits it
    before, after = _special_frame(tokenizer)  # [CLS] .. [SEP] for BERT, <s> .. </s> for XLM-R
    specials = len(before) + len(after)
    out = []
    for first, subject, body in zip(firsts, subjects, bodies):
        head = subject[: max_tokens // SUBJECT_SHARE] + marker
        room = max_tokens - specials - len(head)
        start = max(0, len(first) - specials - len(subject) - len(marker))  # body tokens the first window read
        windows = [first]
        while len(windows) < read_windows and room > 0:
            piece = body[start : start + room]
            if len(piece) < max(1, room // SHORTEST_TAIL):
                break
            windows.append(before + head + piece + after)
            start += room
        out.append(windows)
    return out


def shortest_first(windows: Sequence[Sequence[list[int]]]) -> list[tuple[int, list[int]]]:
    """(row, input ids) of every window of every row, shortest first (stable), so a batch pads only to its
    neighbours."""
    flat = [(row, ids) for row, row_windows in enumerate(windows) for ids in row_windows]
    return sorted(flat, key=lambda item: len(item[1]))


def row_means(probabilities: np.ndarray, window_rows: Sequence[int], rows: int) -> np.ndarray:
    """(rows, labels): each row's mean of its windows' probabilities (`window_rows`: the row of each window)."""
    window_rows = np.asarray(window_rows, dtype=int)
    sums = np.zeros((rows, probabilities.shape[1]))
    np.add.at(sums, window_rows, probabilities)
    return sums / np.bincount(window_rows, minlength=rows)[:, None]


def _special_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one sequence (transformers 5 keeps that template in
    the Rust post-processor, with no Python method to apply it to ids we cut ourselves)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for i in range(len(full) - len(plain) + 1):
        if full[i : i + len(plain)] == plain:
            return full[:i], full[i + len(plain) :]
    raise ValueError(f"{type(tokenizer).__name__} adds tokens inside the text; cannot cut it into windows")
