"""clitest.py: what the CLI test scripts share: a check that counts and
prints TAP-like lines, a runner for the floatcast command, and the summary
that makes the exit code. Imported by test_cli*.py from this folder."""
import subprocess
import sys

_counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    """Counts one check; a failure prints its detail on stderr."""
    if cond:
        _counts["passed"] += 1
        print(f"ok - {name}")
    else:
        _counts["failed"] += 1
        print(f"not ok - {name}: {detail}", file=sys.stderr)


def run(cli, *args):
    """Runs the command; returns (exit code, stdout, stderr). The timeout is a
    guard against a hang, not a speed check: ASan builds on a busy two-core
    machine run many times slower than a Release build alone."""
    p = subprocess.run([cli, *args], capture_output=True, text=True, timeout=900)
    return p.returncode, p.stdout, p.stderr


def summary():
    """Prints the counts; returns the script's exit code (1 if any failed)."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    return 1 if _counts["failed"] else 0
