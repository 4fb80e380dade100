"""Escape-hatch code for built-in rules, one module per family."""
