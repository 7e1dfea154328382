"""Stand-in for the training child that runs the real publish path (worker/training/pipeline.py run_finetune:
staging folder, model files, training_info.json, the worker's go-ahead, publish_version) with the torch parts
replaced: "training" is instant and saving the model writes `--weights-bytes` bytes.

python tests/fake_publish.py --name NAME --data FILE [--weights-bytes N]
"""

import argparse
import errno
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from shared.job_schema import FinetuneParams
from shared.settings import get_settings
from worker.training import pipeline


def fake_fit(weights_bytes: int):
    """pipeline._fit without torch: an instant "training" whose model saves `weights_bytes` bytes."""

    def save_pretrained(folder, **_):
        (Path(folder) / "config.json").write_text("{}")
        if os.environ.get("AVOCET_TEST_ENOSPC"):  # no small filesystem to fill: what a full one raises
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(folder) / "model.safetensors"))
        with open(Path(folder) / "model.safetensors", "wb") as handle:
            for _ in range(weights_bytes // 65536 + 1):
                handle.write(b"\0" * 65536)

    def fit(config, labels, train, val, staged, emit):
        tokenizer = SimpleNamespace(save_pretrained=lambda folder: (Path(folder) / "tokenizer.json").write_text("{}"))
        promotion = SimpleNamespace(promote=True, reason="no current version to compare with")
        return pipeline.RunResult(model=SimpleNamespace(save_pretrained=save_pretrained), tokenizer=tokenizer,
                                  ngram=None, weight=1.0, best=None, scores={}, report={}, promotion=promotion,
                                  timings={})  # fmt: skip

    return fit


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--weights-bytes", type=int, default=1024)
    args, _ = parser.parse_known_args()
    pipeline._fit = fake_fit(args.weights_bytes)
    pipeline.build_training_info = lambda *a, **k: {"name": args.name, "model_key": "minilm", "val_macro_f1": 0.5}

    def emit(type_, message, **fields):
        print(json.dumps({"type": type_, "message": message, **fields}), flush=True)

    settings = get_settings()
    config = pipeline.TrainConfig.from_params(FinetuneParams(name=args.name), data=Path(args.data),
                                              labels=["a", "b"], models_dir=settings.models_dir)  # fmt: skip
    info = pipeline.run_finetune(config, emit)
    emit("complete", f"saved version {info['version']} of {args.name}", name=args.name, version=info["version"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
