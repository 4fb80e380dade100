"""Python rule hooks (``visitor:`` classes and ``unless:`` functions), one module per family."""
