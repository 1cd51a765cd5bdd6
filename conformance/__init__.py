"""Conformance scenarios for AWS Batch, stored as data, and a runner that replays them against any endpoint.

The scenarios describe what AWS Batch does (API reference, botocore's examples, and
../shared/reference/aws-batch.md); the runner (`conformance.replay`) knows nothing about the emulator,
so the same files can be replayed against AWS itself, moto, or ours. Import `replay` from
`conformance.replay` (this package imports nothing, so `python -m conformance.replay` runs cleanly).
"""
