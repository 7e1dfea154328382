"""Classifiers with one interface (base.py): the fine-tuned model adapter (fine_tuned.py, also what predict uses),
the TF-IDF baseline, zero-shot by embedding similarity and by NLI, label descriptions, and discovery of the
published fine-tuned models the benchmark can score."""
