"""The GPU side of the recipe, checked on a CPU: the memory estimate and the plan chosen from free memory, the
precision choice, the TrainingArguments a plan produces, a bf16-autocast run with gradient accumulation, and the
out-of-memory path (detection, message, exit code 4)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hub_replicas import EXAMPLE, xlmr_nli

from shared.job_schema import FinetuneParams
from shared.labels import CANONICAL_LABELS
from worker.training import cli, pipeline, trainer_setup
from worker.training.memory_plan import GB, MemoryPlan, ModelShape, estimate_peak, plan_memory

LABELS = list(CANONICAL_LABELS)
# bge-m3 (XLM-R large) with a 10-label head and frozen word embeddings, counted from the real config (meta device)
BGE_M3 = ModelShape(params=567_765_002, trainable=311_762_954, layers=24, hidden=1024, heads=16, intermediate=4096)
DEBERTA_SMALL = ModelShape(params=141_902_602, trainable=43_521_802, layers=6, hidden=768, heads=12,
                           intermediate=3072, attention_scores=True)  # fmt: skip


def _peak(shape, seq, micro, accumulation, optimizer, checkpointing=True) -> float:
    return estimate_peak(shape, seq, micro, accumulation, optimizer, checkpointing=checkpointing) / GB


def test_bge_m3_estimate_matches_the_documented_arithmetic():
    """docs/gpu-box.md: 512 tokens, batch 16, checkpointing, bf16 autocast, frozen word embeddings."""
    assert _peak(BGE_M3, 512, 16, 1, "adamw_torch") == pytest.approx(7.56, abs=0.01)  # yesterday's recipe: foreach
    assert _peak(BGE_M3, 512, 16, 1, "adamw_torch_fused") == pytest.approx(6.95, abs=0.01)
    assert _peak(BGE_M3, 512, 16, 1, "adamw_bnb_8bit") == pytest.approx(5.08, abs=0.01)
    assert _peak(BGE_M3, 512, 16, 1, "adafactor") == pytest.approx(4.49, abs=0.01)
    assert _peak(BGE_M3, 96, 16, 1, "adamw_torch_fused") == pytest.approx(6.43, abs=0.01)  # the default 96 tokens
    # with checkpointing, accumulation holds the gradients through the next forward: a smaller micro-batch costs
    assert _peak(BGE_M3, 512, 8, 2, "adamw_torch_fused") > _peak(BGE_M3, 512, 16, 1, "adamw_torch_fused")


def test_plan_keeps_the_batch_when_memory_allows_and_never_changes_the_effective_batch():
    plan = plan_memory(BGE_M3, 16, 512, 78 * GB, checkpointing=True)
    assert (plan.micro_batch, plan.accumulation, plan.optimizer, plan.fits) == (16, 1, "adamw_torch_fused", True)
    for free in (8.2, 7.7, 6, 4, 3, 2):
        for shape, checkpointing in ((BGE_M3, True), (DEBERTA_SMALL, False)):
            plan = plan_memory(shape, 16, 512, free * GB, checkpointing=checkpointing)
            assert plan.micro_batch * plan.accumulation == 16
            assert plan.fits == (plan.peak_bytes <= 0.95 * free * GB)


def test_activation_heavy_models_get_a_smaller_micro_batch_first():
    plan = plan_memory(DEBERTA_SMALL, 16, 512, 6 * GB, checkpointing=False)
    assert (plan.micro_batch, plan.accumulation, plan.optimizer) == (8, 2, "adamw_torch_fused")
    assert "micro-batch 8 x 2 accumulation step(s) (effective batch 16), optimizer adamw_torch_fused" in plan.describe()
    assert plan.warning() is None


def test_when_adamw_states_do_not_fit_the_plan_switches_optimizer_and_says_so():
    alone = plan_memory(BGE_M3, 16, 512, 7.7 * GB, checkpointing=True)  # the seed's 8.2 GB card, nothing else on it
    assert (alone.micro_batch, alone.optimizer, alone.fits) == (16, "adamw_torch_fused", True)
    plan = plan_memory(BGE_M3, 16, 512, 7 * GB, checkpointing=True)  # something else holds 0.7 GB
    assert (plan.micro_batch, plan.optimizer, plan.fits) == (16, "adamw_bnb_8bit", True)
    without_bnb = plan_memory(BGE_M3, 16, 512, 5 * GB, checkpointing=True,
                              optimizers=("adamw_torch_fused", "adafactor"))  # fmt: skip
    assert (without_bnb.optimizer, without_bnb.fits) == ("adafactor", True)
    assert "training with adafactor instead" in without_bnb.warning()


def test_when_nothing_fits_the_plan_is_the_smallest_and_warns():
    plan = plan_memory(BGE_M3, 16, 512, 3 * GB, checkpointing=True)
    assert not plan.fits and plan.optimizer == "adafactor" and plan.peak_bytes == min(
        estimate_peak(BGE_M3, 512, m, 16 // m, "adafactor", checkpointing=True) for m in (1, 2, 4, 8, 16))
    assert "may not fit" in plan.warning() and "vLLM" in plan.warning()


def test_precision_is_bf16_or_fp16_on_cuda_and_never_on_cpu():
    assert trainer_setup.mixed_precision(cuda=False, bf16_supported=True) == "fp32"
    assert trainer_setup.mixed_precision(cuda=True, bf16_supported=True) == "bf16"
    assert trainer_setup.mixed_precision(cuda=True, bf16_supported=False) == "fp16"


def _config(model: str, tmp_path: Path, batch_size: int = 16):
    params = FinetuneParams(model=model, epochs=1, hyperparameters={"batch_size": batch_size})
    return pipeline.TrainConfig.from_params(params, data=EXAMPLE, labels=LABELS, models_dir=tmp_path / "models")


def _batches(args) -> tuple[int, int, int]:
    return args.per_device_train_batch_size, args.gradient_accumulation_steps, args.per_device_eval_batch_size


def test_cpu_training_arguments_are_the_tuned_cpu_recipe(tmp_path):
    args = trainer_setup.training_arguments(_config("minilm", tmp_path), tmp_path, 100)
    assert _batches(args) == (16, 1, 64)
    assert (args.optim, args.bf16, args.fp16, args.use_cpu) == ("adamw_torch", False, False, True)


def test_a_plan_sets_micro_batch_accumulation_and_optimizer(tmp_path):
    plan = MemoryPlan(4, 4, "adafactor", 5 * GB, 6 * GB, True)
    args = trainer_setup.training_arguments(_config("minilm", tmp_path), tmp_path, 100, plan)
    assert _batches(args) == (4, 4, 16)
    assert args.optim == "adafactor"


def test_on_cuda_the_plan_comes_from_free_memory_and_is_emitted(tmp_path, monkeypatch):
    from worker.training.model_loading import load_tokenizer_and_model

    config = _config(str(xlmr_nli(tmp_path / "xlmr")), tmp_path)
    _, model = load_tokenizer_and_model(config.spec, LABELS, allow_downloads=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    events = []
    for free in (80 * GB, 1e6):
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda free=free: (int(free), int(80 * GB)))
        plan = trainer_setup.memory_plan(config, model, lambda kind, message, **_: events.append((kind, message)))
        assert plan.micro_batch * plan.accumulation == 16
    assert [kind for kind, _ in events] == ["log", "log", "warning"] and events[0][1].startswith("memory plan: ")
    assert "may not fit" in events[2][1]


@pytest.mark.integration  # trains
def test_bf16_autocast_with_gradient_accumulation_trains_on_cpu(tmp_path, monkeypatch):
    """The CUDA recipe's moving parts (bf16 autocast, micro-batches, accumulation, fused AdamW) on a CPU."""
    monkeypatch.setattr(trainer_setup, "mixed_precision", lambda cuda, bf16_supported: "bf16")
    monkeypatch.setattr(trainer_setup, "memory_plan", lambda *a: MemoryPlan(2, 2, "adamw_torch_fused", 0, 0, True))
    config = _config(str(xlmr_nli(tmp_path / "xlmr")), tmp_path, batch_size=4)
    config = replace(config, spec=replace(config.spec, gradient_checkpointing=True))
    events = []
    info = pipeline.run_finetune(config, lambda kind, message, **fields: events.append({"type": kind, **fields}))
    progress = [e for e in events if e["type"] == "progress"]
    assert progress and progress[-1]["total"] == 4  # 16 train rows / effective batch 4: optimizer steps unchanged
    assert all(torch.isfinite(torch.tensor(e["loss"])) for e in progress)
    assert Path(info["model_dir"]).is_dir()


def test_oom_is_recognised_through_the_exception_chain():
    assert cli._is_oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert cli._is_oom(RuntimeError("CUDA error: out of memory"))
    assert cli._is_oom(RuntimeError("CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate(handle)"))
    try:
        try:
            raise torch.OutOfMemoryError("boom")
        except torch.OutOfMemoryError as inner:
            raise RuntimeError("step failed") from inner
    except RuntimeError as outer:
        assert cli._is_oom(outer)
    assert not cli._is_oom(ValueError("bad label"))


def test_oom_message_names_the_cause_and_both_fixes():
    message = cli.oom_message("bge-m3", 16, 512, (5.1e9, 8.2e9))
    assert message.startswith("out of memory: training bge-m3 at batch size 16 and 512 tokens")
    assert "the GPU (8.2 GB, of which other processes hold 5.1 GB)" in message
    assert "vLLM" in message and "--gpu-memory-utilization" in message and "nvidia-smi" in message
    assert "--batch-size 8" in message and "--max-tokens 256" in message


def test_cli_reports_oom_with_exit_code_4_and_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    from functools import wraps

    from transformers import XLMRobertaForSequenceClassification

    @wraps(XLMRobertaForSequenceClassification.forward)  # the Trainer reads forward's signature to pick columns
    def out_of_memory(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.50 GiB")

    monkeypatch.setattr(XLMRobertaForSequenceClassification, "forward", out_of_memory)
    models_dir = tmp_path / "models"
    argv = ["--model", str(xlmr_nli(tmp_path / "xlmr")), "--data", str(EXAMPLE), "--epochs", "1", "--json",
            "--models-dir", str(models_dir)]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_OOM == 4
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["type"] == "error" and last["reason"] == "oom" and last["message"].startswith("out of memory: ")
    assert not list(models_dir.glob("avocet-*")) and not list(models_dir.glob(".staging/*"))
