"""Reusable fakes of external services for the kit's tests (real servers on 127.0.0.1)."""
