"""Notifications to residents (issue 21), pure: kinds, Russian templates, webhook signing,
the retry schedule. No I/O here: the outbox is adapters.store.outbox, senders adapters.notify."""
