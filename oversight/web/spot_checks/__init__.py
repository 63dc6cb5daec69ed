"""Spot checks: the blind re-check, its comparison, and rectification notices."""
