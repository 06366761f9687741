"""Tests of the reference target (examples/reference_target).

A package, so its helper module (`fakes`) is imported relatively and the test
file names cannot clash with other rooms' tests.
"""
