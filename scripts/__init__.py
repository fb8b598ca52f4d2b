"""Operator tooling: the `mlops-kit` CLI and the scripts behind it (synth, scan, preflight, bench...)."""
