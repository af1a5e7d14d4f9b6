"""Hostile sources for the tests: bad files, odd-but-valid files, attacker-controlled text."""
