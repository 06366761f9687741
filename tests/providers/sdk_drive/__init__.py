"""SDK drivers (stripe-python 11 and Node, run as subprocesses) and the plan they share; see plan.py."""
