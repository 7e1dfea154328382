"""Classifiers the benchmark scores side by side, one module each, all with the `Classifier` interface of base.py.

base.py (the interface and shared helpers), descriptions.py (label descriptions for the zero-shot adapters),
tfidf_baseline.py, embedding_similarity.py, zero_shot_nli.py, and discovery.py (the fine-tuned model folders in
models/ and whether the data given splits the way they were trained). The fine-tuned adapter itself is
worker.inference.FineTunedAdapter.
"""
