"""The exit codes of every `mlops-kit` command and script, defined once (scripts/cli.py's docstring explains them).

No imports: bench's measuring workers and the fast commands import it without loading anything else.
"""

EXIT_OK = 0
EXIT_FINDINGS = 1  # the command ran and found problems (failed checks)
EXIT_USER_ERROR = 2  # invalid config or arguments, a missing prerequisite (the function package): one line each
EXIT_TOOL_FAILURE = 3  # a tool the command depends on failed (checkov, synth, pip), or an unexpected error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
