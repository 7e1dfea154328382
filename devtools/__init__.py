"""Development-only code (scripts/up, the tests, perf): not part of the installed runtime packages."""
