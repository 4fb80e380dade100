"""Output: the report formats (text, JSON, GitHub, SARIF), rule documentation, rule feedback,
the quality dashboard and release attestations."""
