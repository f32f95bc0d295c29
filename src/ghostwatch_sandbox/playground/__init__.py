"""ghostwatch wired to the emulators: providers reading a sandbox, and the demo."""
