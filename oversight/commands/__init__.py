"""CLI commands, one module per area, each with a `register(app)` function."""
