"""Senders of notifications: e-mail over SMTP (aiosmtplib) and signed webhooks (httpx)."""
