"""batch-emulator: a local, faithful emulator of AWS Batch that really runs jobs."""

__version__ = "0.1.0"
