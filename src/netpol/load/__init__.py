"""Manifests (files, directories, stdin) and live clusters -> model."""
