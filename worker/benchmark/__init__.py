"""The classifier benchmark: `python -m worker.benchmark` scores every available classifier on the validation split
the fine-tuning used and (with --save) records the run in models/benchmark_results.json.

cli.py (arguments, stdout, exit codes), candidates.py (which classifiers exist and how to build each),
runner.py (scoring one classifier, then all), split_check.py (whether a fine-tuned model may be scored on this
data's validation split). The saved history is shared.model_store's benchmark results file.
"""
