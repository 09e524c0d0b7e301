"""The city replay: a simulated town (``simulators.city``) run through uchet, and its report."""
