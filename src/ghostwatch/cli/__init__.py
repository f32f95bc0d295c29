"""The command line: one module per command family, loaded only when its command runs."""
