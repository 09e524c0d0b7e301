"""The ingest pipeline: sources -> bounded queue -> batches -> validation -> store."""
