"""The test suite (a package, so that tests/harness never shadows the harness package)."""
