"""The Kubernetes analyzer: the YAML loader, the manifest rules' matcher, Pod Security and the
manifest fixer."""
