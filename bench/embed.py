"""`tessera bench embed`: docs/s of the naive baseline against Tessera's embedding path, same texts.

Baseline: SentenceTransformer.encode, fp32 PyTorch, default batch size (32), normalized.
Tessera:  assets.embeddings.model.get_encoder() (int8 onnxruntime after BERT fusions; the PyTorch path
          when onnxruntime is missing), one text per run (see OnnxEncoder).
Both truncate at the model's 256-token window here, so the vectors are comparable; the cosine between
the two paths' vectors is reported (mean and minimum). The pipeline figure adds Tessera's chunking
(long texts become several overlapping chunks, so it does more work than the baseline).
Rounds alternate baseline and Tessera so a noisy, shared machine hits both alike; the speedup is the
median of the per-round wall-clock ratios. The CPU-time ratio (process CPU seconds for the same texts)
is reported too: on a machine shared with other jobs it is the steadier measure of the work saved.

Texts: journal entries from the generator's text helpers (sources/generator/text.py) with the
generator's length distribution (about 50 to 570 words); a built-in fallback when it is absent.

Options: --docs N (160), --rounds R (3), --seed S (7), --model SPEC (TESSERA_EMBEDDING_MODEL),
--baseline-batch-size B (32), --no-pipeline.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import statistics
import sys
import time

log = logging.getLogger("tessera.bench.embed")


def journal_texts(n: int, seed: int) -> tuple[list[str], str]:
    rng = random.Random(seed)
    try:
        from sources.generator import text as gen_text

        moods = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")
        tags = ("work", "family", "health", "travel", "friends", "study", "sleep", "food")
        texts = []
        for _ in range(n):
            mean_words = rng.uniform(90, 330)  # the generator's per-user mean, lognormal around it
            words = int(min(570, max(50, rng.lognormvariate(math.log(mean_words), 0.45))))
            title, content = gen_text.journal_entry(rng, rng.choice(moods), rng.sample(tags, 2), words)
            texts.append(f"{title}\n\n{content}")
        return texts, "sources.generator.text.journal_entry"
    except (ImportError, AttributeError, TypeError) as exc:
        log.warning("generator text helpers unavailable (%s): using built-in texts", exc)
    vocab = ("today I felt tired but happy after the long walk with my friend we talked about work family "
             "and the future I am anxious about the exam next week yet grateful for the sunny weather coffee "
             "music reading sleep dinner mother brother project deadline meeting garden rain quiet evening").split()
    texts = []
    for _ in range(n):
        sentences, words = [], rng.randint(50, 600)
        while sum(len(s.split()) for s in sentences) < words:
            sentences.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(6, 18))).capitalize() + ".")
        texts.append(" ".join(sentences))
    return texts, "builtin"


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench embed")
    parser.add_argument("--docs", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=None)
    parser.add_argument("--baseline-batch-size", type=int, default=32)
    parser.add_argument("--no-pipeline", action="store_true")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np

    from assets.embeddings.chunking import chunk_text
    from assets.embeddings.model import get_encoder, parse_model_spec

    texts, text_source = journal_texts(args.docs, args.seed)
    spec = parse_model_spec(args.model)

    t0 = time.monotonic()
    tessera = get_encoder(args.model)
    tessera_load = time.monotonic() - t0
    log.info("tessera encoder %s ready in %.1fs", tessera.model_id, tessera_load)

    t0 = time.monotonic()
    import torch
    from sentence_transformers import SentenceTransformer

    baseline = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
    baseline_load = time.monotonic() - t0
    token_counts = [len(tessera.tokenizer.encode(t, add_special_tokens=False).ids) for t in texts]

    def run_baseline():
        return baseline.encode(texts, batch_size=args.baseline_batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)

    # warm both paths (first calls allocate)
    baseline.encode(texts[:4], normalize_embeddings=True)
    tessera.encode(texts[:4])
    rounds, base_vecs, tess_vecs = [], None, None
    for r in range(args.rounds):
        t0, c0 = time.monotonic(), time.process_time()
        base_vecs = run_baseline()
        tb, cb = time.monotonic() - t0, time.process_time() - c0
        t0, c0 = time.monotonic(), time.process_time()
        tess_vecs = tessera.encode(texts)
        tt, ct = time.monotonic() - t0, time.process_time() - c0
        rounds.append({"baseline_docs_per_s": round(len(texts) / tb, 2), "tessera_docs_per_s": round(len(texts) / tt, 2),
                       "speedup": round(tb / tt, 3), "baseline_cpu_s": round(cb, 2), "tessera_cpu_s": round(ct, 2),
                       "speedup_cpu": round(cb / ct, 3)})
        log.info("round %s/%s: baseline %.1f docs/s, tessera %.1f docs/s (x%.2f)", r + 1, args.rounds,
                 len(texts) / tb, len(texts) / tt, tb / tt)

    cosines = np.sum(np.asarray(base_vecs, dtype=np.float32) * tess_vecs, axis=1)
    figures = {
        "benchmark": "embed",
        "texts": {"count": len(texts), "source": text_source,
                  "words_mean": round(statistics.mean(len(t.split()) for t in texts), 1),
                  "tokens_mean": round(statistics.mean(token_counts), 1),
                  "over_window_share": round(sum(c > tessera.max_tokens for c in token_counts) / len(texts), 3)},
        "threads": {"torch": torch.get_num_threads(), "cpus": os.cpu_count()},
        "baseline": {"path": "SentenceTransformer.encode fp32 PyTorch", "batch_size": args.baseline_batch_size,
                     "docs_per_s_median": statistics.median(r["baseline_docs_per_s"] for r in rounds),
                     "load_seconds": round(baseline_load, 2)},
        "tessera": {"model_id": tessera.model_id, "docs_per_s_median": statistics.median(r["tessera_docs_per_s"] for r in rounds),
                    "load_seconds_incl_onnx_build_if_cold": round(tessera_load, 2)},
        "speedup_median": statistics.median(r["speedup"] for r in rounds),
        "speedup_cpu_time_median": statistics.median(r["speedup_cpu"] for r in rounds),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cosine_vs_baseline": {"mean": round(float(cosines.mean()), 5), "min": round(float(cosines.min()), 5)},
        "rounds": rounds,
        "targets": {"speedup": 1.5, "mean_cosine": 0.99},
    }
    if not args.no_pipeline:
        t0 = time.monotonic()
        chunked = [[c.text for c in chunk_text(t, tessera.tokenizer, tessera.max_tokens)] for t in texts]
        flat = [c for doc in chunked for c in doc]
        tessera.encode(flat)
        tp = time.monotonic() - t0
        figures["tessera_pipeline_with_chunking"] = {
            "docs_per_s": round(len(texts) / tp, 2), "chunks": len(flat),
            "note": "whole texts covered by overlapping chunks: more tokens than the truncating baseline",
        }
    figures["met_target"] = figures["speedup_median"] >= 1.5 and figures["cosine_vs_baseline"]["mean"] >= 0.99
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
