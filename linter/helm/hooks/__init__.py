"""Chart rule hooks."""
