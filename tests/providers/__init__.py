"""Tests of the mock providers (see conftest.py for the fixtures)."""
