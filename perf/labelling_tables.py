"""The tables and targets perf/labelling.py prints from its results file."""

import statistics

QUICK_TARGET, THOROUGH_MARGIN = 0.72, 0.05
NEXT_OVER_RANDOM, NEXT_UNDER_MARGIN = 0.06, 0.01


def _mean(values) -> float:
    values = list(values)
    return statistics.mean(values) if values else float("nan")


def print_errors(results: list[dict]) -> None:
    rows = [r for r in results if r["part"] == "errors"]
    if not rows:
        return
    print("\n== label errors: 5 % of labels flipped; precision / recall of the top N (N = flipped rows)")
    print(f"{'method':<34} {'seeds':<7} {'precision@N':>12} {'recall@N':>9} {'flagged':>8} {'seconds':>8}  per seed")
    for name in dict.fromkeys(["baseline", "quick", "thorough", *(r["row"] for r in rows)]):
        got = sorted((r for r in rows if r["row"] == name), key=lambda r: r["seed"])
        if got:
            extra = f" ({got[0]['folds']} folds, {got[0]['epochs']} epochs)" if "folds" in got[0] else ""
            print(f"{name:<34} {','.join(str(r['seed']) for r in got):<7} {_mean(r['precision'] for r in got):>12.3f} "
                  f"{_mean(r['recall'] for r in got):>9.3f} {_mean(r['flagged'] for r in got):>8.0f} "
                  f"{_mean(r['seconds'] for r in got):>8.0f}  "
                  + " ".join(f"{r['precision']:.3f}" for r in got) + extra)  # fmt: skip
    for r in (r for r in results if r["part"] == "unflipped"):
        print(f"unflipped file: {r['row']} flags {r['flagged']} rows")
    quick = [r["precision"] for r in rows if r["row"] == "quick"]
    if quick:
        print(f"target: quick mean precision@N {_mean(quick):.3f} >= {QUICK_TARGET}: "
              f"{'met' if _mean(quick) >= QUICK_TARGET else 'MISSED'}")  # fmt: skip
    for name in (r["row"] for r in rows if r["row"].startswith("thorough")):  # against quick, same ranking
        thorough = next(r["precision"] for r in rows if r["row"] == name)
        quick = [r["precision"] for r in rows if r["row"] == name.replace("thorough", "quick") and r["seed"] == 0]
        if quick:
            gain = thorough - quick[0]
            print(f"target: {name} - {name.replace('thorough', 'quick')} (seed 0) {gain:+.3f} >= "
                  f"+{THOROUGH_MARGIN}: {'met' if gain >= THOROUGH_MARGIN else 'MISSED'}")  # fmt: skip


def print_next(results: list[dict]) -> None:
    rows = [r for r in results if r["part"] == "next"]
    if not rows:
        return
    print("\n== label next: 300 labelled rows + 3 rounds of 100; quick model's macro-F1 on the fixed test split")
    print(f"{'arm':<18} {'seeds':<7} " + " ".join(f"{f'{300 + 100 * i} rows':>9}" for i in range(4))
          + f" {'rare picks':>10}")  # fmt: skip
    final = {}
    for arm in dict.fromkeys(r["row"] for r in rows):
        got = [r for r in rows if r["row"] == arm]
        curve = [_mean(r["f1"][i] for r in got) for i in range(4)]
        final[arm] = (curve[-1], _mean(r["rare_picked"] for r in got))
        print(f"{arm:<18} {','.join(str(r['seed']) for r in got):<7} " + " ".join(f"{v:>9.3f}" for v in curve)
              + f" {final[arm][1]:>10.1f}")  # fmt: skip
    if {"ranking", "random", "margin"} <= set(final):
        ours, rand, margin = final["ranking"], final["random"], final["margin"]
        print(f"target: ranking - random {ours[0] - rand[0]:+.3f} >= +{NEXT_OVER_RANDOM}: "
              f"{'met' if ours[0] - rand[0] >= NEXT_OVER_RANDOM else 'MISSED'}; ranking - margin "
              f"{ours[0] - margin[0]:+.3f} >= -{NEXT_UNDER_MARGIN}: "
              f"{'met' if ours[0] - margin[0] >= -NEXT_UNDER_MARGIN else 'MISSED'}; rare picks {ours[1]:.1f} > "
              f"{margin[1]:.1f}: {'met' if ours[1] > margin[1] else 'MISSED'}")  # fmt: skip


def print_throughput(results: list[dict]) -> None:
    for r in (r for r in results if r["part"] == "throughput"):
        print(f"\n== score throughput ({r['rows']} rows, {r['cores']} cores, load {r['load']}): "
              f"probabilities_in_batches {r['emails_per_s']:.1f} emails/s (transformer + n-gram, as published), "
              f"{r.get('transformer_only_per_s', float('nan')):.1f} with the transformer alone; predict engine ceiling "
              "(the transformer alone, batches of 8) "
              f"{r['ceiling_8']:.1f}, (batches of 64) {r['ceiling_64']:.1f}; score / ceiling "
              f"{r['emails_per_s'] / r['ceiling_8']:.2f}x, transformer alone / ceiling "
              f"{r.get('transformer_only_per_s', float('nan')) / r['ceiling_8']:.2f}x")  # fmt: skip
