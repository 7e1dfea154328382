"""Score throughput for perf/labelling.py: emails/s of probabilities_in_batches (the score job's loop) with a
published MiniLM, against the predict engine's ceiling (perf/predict.py's engine_ceiling) measured in the same run
on the same model. Without a model it trains one like perf/predict.py does (1 epoch, 400-row stratified sample)."""

import json
import os
import tempfile
import time
from pathlib import Path

SCORE_ROWS = 480
CLIENTS = 8  # perf/predict.py's default: its ceiling is batches of 8 (1-email requests from 8 clients)


def measure_throughput(data: Path, rows, model_dir: Path | None = None) -> dict:
    from perf.predict import engine_ceiling, train

    with tempfile.TemporaryDirectory(prefix="avocet-labelling-") as tmp:
        model = model_dir or train(data, Path(tmp))
        dicts = [{"subject": r.subject, "body": r.body} for r in rows[-SCORE_ROWS:]]
        score_rate, transformer_rate = _score_rate(model, dicts)
        ceiling = engine_ceiling(model, dicts, CLIENTS)
        wide = engine_ceiling(model, dicts, 64, emails=192)  # the score job's batch size, for comparison
    return {"part": "throughput", "row": "score", "seed": 0, "emails_per_s": round(score_rate, 1),
            "transformer_only_per_s": round(transformer_rate, 1),
            "ceiling_8": round(ceiling, 1), "ceiling_64": round(wide, 1), "rows": len(dicts),
            "cores": len(os.sched_getaffinity(0)), "load": round(os.getloadavg()[0], 1)}  # fmt: skip


def _score_rate(model: Path, rows: list[dict]) -> tuple[float, float]:
    """emails/s of the score job's loop as published (transformer + n-gram blend), and with the n-gram part left
    out: the ceiling times the transformer alone, so the second is the like-for-like comparison."""
    from classifiers.batch_scoring import probabilities_in_batches
    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(model)
    pairs = [(r["subject"], r["body"]) for r in rows]
    rates = []
    for blended in (True, False):
        if not blended:
            adapter.ngram = None  # probabilities() is then the transformer's softmax alone
        probabilities_in_batches(adapter, pairs[:64])  # warm-up, as engine_ceiling does
        started = time.perf_counter()
        probs = probabilities_in_batches(adapter, pairs)
        rates.append(len(pairs) / (time.perf_counter() - started))
        print(json.dumps({"blended": blended, "score_rows": len(pairs), "emails_per_s": round(rates[-1], 1),
                          "shape": list(probs.shape)}))  # fmt: skip
    return rates[0], rates[1]
