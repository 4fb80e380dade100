"""The pure core and its edges: the data model, configuration, packs, discovery, the engine
(suppressions, sorting, fingerprints, the worker pool), the results cache and the fixer."""
