"""GPU memory: what a fine-tune needs, and the plan that fits it into what is free (micro-batch, optimizer).

Pure arithmetic, no torch, so the planner is tested on a CPU with made-up numbers and the estimate in
docs/gpu-box.md is checked by a test. Only the CUDA path uses a plan; the CPU recipe is untouched.

The estimate follows what the recipe keeps on the card (fp32 master weights, bf16 autocast, frozen word embeddings,
AdamW states for the rest, optional activation checkpointing) through the three moments that can peak:
  forward  - autocast's bf16 copies of the weights + saved activations (+ the gradients held between micro-batches)
  backward - the gradients filling up while stored activations drain, + one layer's activations and their gradients
  step     - the gradients + whatever the optimizer step allocates for itself
"""

from dataclasses import dataclass

GB = 1e9
# optimizer -> (state bytes per trainable parameter, bytes its step allocates per trainable parameter)
OPTIMIZERS: dict[str, tuple[float, float]] = {
    "adamw_torch": (8, 4),  # two fp32 states; the foreach step builds a full-size sqrt(v) buffer
    "adamw_torch_fused": (8, 0),  # same states, one fused kernel, no temporaries
    "adamw_bnb_8bit": (2, 0),  # both states in 8 bits (needs the optional bitsandbytes package)
    "adafactor": (0.1, 0),  # factored second moment (rows + columns), no first moment
}
FALLBACK_ORDER = ("adamw_torch_fused", "adamw_bnb_8bit", "adafactor")  # closest to AdamW first
WORKSPACE = 0.3 * GB  # cuBLAS/cuDNN workspaces and the loss, logits and collator tensors
USABLE_SHARE = 0.95  # of the free memory: the allocator fragments as batch lengths vary (dynamic padding)


@dataclass(frozen=True)
class ModelShape:
    params: int  # all parameters (fp32 on the card)
    trainable: int  # the ones the optimizer updates
    layers: int
    hidden: int
    heads: int
    intermediate: int
    attention_scores: bool = False  # eager attention keeps heads x seq x seq scores (DeBERTa); SDPA does not


@dataclass(frozen=True)
class MemoryPlan:
    micro_batch: int
    accumulation: int
    optimizer: str
    peak_bytes: float
    free_bytes: float
    fits: bool

    def describe(self) -> str:
        effective = self.micro_batch * self.accumulation
        return (
            f"memory plan: micro-batch {self.micro_batch} x {self.accumulation} accumulation step(s) (effective "
            f"batch {effective}), optimizer {self.optimizer}; estimated peak {self.peak_bytes / GB:.1f} GB of "
            f"{self.free_bytes / GB:.1f} GB free on the GPU"
        )

    def warning(self) -> str | None:
        if not self.fits:
            return (f"this run may not fit ({self.describe()}): free the GPU (e.g. stop a co-located vLLM server) "
                    "or lower batch_size / max_tokens if it runs out of memory")  # fmt: skip
        if self.optimizer != FALLBACK_ORDER[0]:
            return f"AdamW states do not fit beside what holds the GPU: training with {self.optimizer} instead"
        return None


def layer_bytes_per_token(shape: ModelShape, seq_len: int, mixed: bool) -> float:
    """Activations one layer saves for backward, per token: linear inputs, q/k/v, the FFN's two wide tensors in the
    compute dtype, LayerNorm inputs in fp32, dropout masks; plus the score matrices under eager attention."""
    width = 2 if mixed else 4
    saved = (6 * width + 10) * shape.hidden + 2 * width * shape.intermediate
    if shape.attention_scores:
        saved += shape.heads * seq_len * (4 * width + 5)  # scores, fp32 softmax, dropout mask, relative terms
    return saved


def estimate_peak(
    shape: ModelShape, seq_len: int, micro_batch: int, accumulation: int, optimizer: str, *,
    checkpointing: bool, mixed: bool = True,
) -> float:  # fmt: skip
    """Estimated torch.cuda.max_memory_allocated of one training run, in bytes."""
    state_bytes, step_bytes = OPTIMIZERS[optimizer]
    weights, grads = shape.params * 4, shape.trainable * 4
    states, step_temp = shape.trainable * state_bytes, shape.trainable * step_bytes
    cast = shape.trainable * 2 if mixed else 0
    layer = micro_batch * seq_len * layer_bytes_per_token(shape, seq_len, mixed)
    if checkpointing:  # only each layer's input is kept (fp32); one layer is recomputed at a time in backward
        stored, transient = micro_batch * seq_len * shape.hidden * 4 * shape.layers, 2 * layer
    else:
        stored, transient = layer * shape.layers, layer
    held = grads if accumulation > 1 else 0
    forward = cast + stored + held
    backward = max(grads, stored) + transient
    step = grads + step_temp
    return weights + states + max(forward, backward, step) + WORKSPACE


def plan_memory(
    shape: ModelShape, batch_size: int, seq_len: int, free_bytes: float, *, checkpointing: bool,
    optimizers: tuple[str, ...] = FALLBACK_ORDER, mixed: bool = True,
) -> MemoryPlan:  # fmt: skip
    """The first (optimizer, micro-batch) that fits, trying each optimizer in order and, within it, micro-batches
    that divide the batch from largest down, so the effective batch never changes. Not monotonic: with
    checkpointing, accumulation holds the gradients through the next forward and can cost more than it saves.
    Nothing fits: the smallest estimate, with fits=False (the run tries it; an OOM then says what to free)."""
    budget = free_bytes * USABLE_SHARE
    candidates = []
    for optimizer in optimizers:
        for micro in sorted((d for d in range(1, batch_size + 1) if batch_size % d == 0), reverse=True):
            accumulation = batch_size // micro
            peak = estimate_peak(shape, seq_len, micro, accumulation, optimizer, checkpointing=checkpointing,
                                 mixed=mixed)  # fmt: skip
            if peak <= budget:
                return MemoryPlan(micro, accumulation, optimizer, peak, free_bytes, True)
            candidates.append(MemoryPlan(micro, accumulation, optimizer, peak, free_bytes, False))
    return min(candidates, key=lambda plan: plan.peak_bytes)


def model_shape(model) -> ModelShape:
    """The numbers the estimate needs, read from a loaded transformers model (after freezing what is frozen)."""
    config = model.config
    params = trainable = 0
    for parameter in model.parameters():
        params += parameter.numel()
        trainable += parameter.numel() if parameter.requires_grad else 0
    attention = getattr(config, "_attn_implementation", None) or "eager"
    return ModelShape(
        params=params, trainable=trainable, layers=config.num_hidden_layers, hidden=config.hidden_size,
        heads=config.num_attention_heads, intermediate=config.intermediate_size, attention_scores=attention == "eager",
    )  # fmt: skip
