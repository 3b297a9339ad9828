"""Printing: printers, print jobs and their delivery to agents (the module map is in README.md,
"Architecture: where each behaviour lives"). Depends on ``orders``; ``orders`` never imports it."""
