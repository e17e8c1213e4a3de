"""Output formats: tables, JSON, YAML, CSV, Markdown, graphs, JUnit, SARIF."""
