"""Shared kernel of the CAST War Room: only what every service truly shares."""
