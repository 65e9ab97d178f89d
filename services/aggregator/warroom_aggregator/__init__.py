"""Aggregator service: exactly-once running totals of report events."""

SCHEMA = "aggregator"
SOURCE = "/warroom/aggregator"
