"""Run every benchmark: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.reporting", "bench.aggregator", "bench.quarter", "bench.web")

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).main(sys.argv[1:])
