"""An example pitfall rule pack: the pack folders beside this file are loaded as a plugin."""
