"""Policy CI on top of the engine: verify expectations, lint the pitfalls, diff two policy sets."""
