"""Certificate and private-key files: the PEM/DER reader and its checks."""
