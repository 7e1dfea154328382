"""Trainer callbacks: progress events for the log stream, and best-by-macro-F1 with early stopping kept in memory.

Keeping the best weights in memory (instead of checkpoint folders) avoids writing ~90 MB per epoch to the volume and
means an interrupted run leaves nothing behind.
"""

from collections.abc import Callable

from transformers import TrainerCallback

Emit = Callable[..., None]


class ProgressCallback(TrainerCallback):
    def __init__(self, emit: Emit):
        self.emit = emit

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs:
            return
        epoch = round(state.epoch or 0.0, 3)
        self.emit(
            "progress",
            f"epoch {epoch:.2f} step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f}",
            epoch=epoch,
            step=state.global_step,
            total=state.max_steps,
            loss=round(float(logs["loss"]), 5),
            learning_rate=float(logs.get("learning_rate", 0.0)),
        )

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics = metrics or {}
        epoch = round(state.epoch or 0.0, 3)
        f1, accuracy = metrics.get("eval_macro_f1", 0.0), metrics.get("eval_accuracy", 0.0)
        ensemble = metrics.get("eval_ensemble_f1")
        extra = {} if ensemble is None else {"ensemble_f1": round(ensemble, 5),
                                             "ensemble_weight": metrics.get("eval_ensemble_weight")}  # fmt: skip
        blended = "" if ensemble is None else f", with the n-gram model {ensemble:.4f}"
        self.emit(
            "eval",
            f"epoch {epoch:.2f} validation macro-F1 {f1:.4f} accuracy {accuracy:.4f}{blended}",
            epoch=epoch,
            step=state.global_step,
            total=state.max_steps,
            f1=round(f1, 5),
            accuracy=round(accuracy, 5),
            loss=round(float(metrics.get("eval_loss", 0.0)), 5),
            **extra,
        )


class BestModelCallback(TrainerCallback):
    """Remembers the weights with the best validation macro-F1 (of the ensemble when there is one: the epoch is
    chosen for what gets published) and stops after `patience` evaluations without gain."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_f1 = -1.0
        self.best_epoch = 0.0
        self.best_state: dict | None = None
        self.evals_without_gain = 0
        self.last_epoch = 0.0
        self.evaluations = 0
        self.best_index = 0  # which evaluation the kept weights come from

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        metrics = metrics or {}
        f1 = metrics.get("eval_ensemble_f1", metrics.get("eval_macro_f1", 0.0))
        self.last_epoch = state.epoch or 0.0
        self.evaluations += 1
        if f1 > self.best_f1:
            self.best_f1, self.best_epoch, self.evals_without_gain = f1, state.epoch or 0.0, 0
            self.best_index = self.evaluations - 1
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.evals_without_gain += 1
            if self.evals_without_gain >= self.patience:
                control.should_training_stop = True

    def restore_best(self, model) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
