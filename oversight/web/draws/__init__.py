"""Spot-check and callback draws: make them, look at them, verify them."""
