"""Constructs, config and naming for mlops-kit."""
