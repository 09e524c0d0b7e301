"""HTTP API and the command line (``uchet``)."""
