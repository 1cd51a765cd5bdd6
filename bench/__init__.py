"""Benchmarks: the emulator against moto's server and against floors, in one interleaved run.

`python -m bench` runs every workload (API, latency to done, array throughput, scale) and prints a
table of ratios; `--quick` runs small sizes, `--only` picks workloads. Raw figures go to
bench/results/<timestamp>.json. RESULTS.md records a full run on a described machine.
"""
