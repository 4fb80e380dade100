"""Kubernetes rule hooks (``check:`` functions), one module per family."""
