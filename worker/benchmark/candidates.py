"""The classifiers a benchmark run can score: discovered fine-tuned models, then the baselines and zero-shot models.

Each is a Candidate with a name (what --models selects and the results file shows) and a build() that loads it only
when its turn comes, so one slow or missing model never holds up the list. A fine-tuned model whose split does not
match the data carries its refusal instead of being loaded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from shared.data import Example
from classifiers.base import Classifier
from shared.model_store import read_training_info
from shared.model_versions import model_folders
from worker.benchmark.split_check import SplitFacts, describe_source, split_mismatch
from shared.registry import ZERO_SHOT_CLASSIFIERS

TFIDF, EMBEDDING = "tfidf", "minilm-embedding"


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: str
    build: Callable[[], Classifier]
    refusal: str | None = None  # set when it must not be scored on this data
    note: str | None = None  # worth a warning line, but no reason to refuse


@dataclass(frozen=True)
class BenchContext:
    train: list[Example]
    facts: SplitFacts
    models_dir: Path
    allow_downloads: bool = False
    descriptions: dict[str, str] | None = None


def all_candidates(ctx: BenchContext) -> list[Candidate]:
    from classifiers.embedding_similarity import EmbeddingSimilarityAdapter
    from classifiers.tfidf_baseline import TfidfBaselineAdapter
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter

    labels = ctx.facts.labels
    found = [_finetuned(folder, ctx.facts) for folder in model_folders(ctx.models_dir)]
    found.append(Candidate(TFIDF, "tfidf", partial(TfidfBaselineAdapter, ctx.train, name=TFIDF)))
    embedding = partial(EmbeddingSimilarityAdapter, labels, ctx.descriptions, name=EMBEDDING)
    found.append(Candidate(EMBEDDING, "embedding", embedding))
    for key in ZERO_SHOT_CLASSIFIERS:
        build = partial(ZeroShotNLIAdapter, key, labels, ctx.descriptions, ctx.allow_downloads)
        found.append(Candidate(key, "zeroshot_nli", build))
    return found


def _finetuned(folder: Path, facts: SplitFacts) -> Candidate:
    from classifiers.fine_tuned import FineTunedAdapter

    def build() -> Classifier:
        adapter = FineTunedAdapter(folder)
        adapter.name = folder.name  # the folder is the unique name (two trainings may share a model key)
        return adapter

    try:
        info = read_training_info(folder)
    except ValueError as exc:
        return Candidate(folder.name, "finetuned", build, refusal=str(exc))
    return Candidate(folder.name, "finetuned", build, split_mismatch(info, facts), describe_source(info, facts))


def select(candidates: list[Candidate], names: list[str] | None) -> list[Candidate]:
    """The candidates named (in the order given), or all; ValueError naming the choices for an unknown name."""
    if not names:
        return candidates
    by_name = {c.name: c for c in candidates}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(by_name)} (--models a,b)")
    return [by_name[n] for n in dict.fromkeys(names)]
