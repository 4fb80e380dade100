"""Certificate-file rule hooks."""
