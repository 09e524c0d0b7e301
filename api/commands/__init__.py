"""Subcommands of ``uchet``, one module per area."""
