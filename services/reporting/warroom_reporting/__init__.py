"""Reporting service: activity reports in, events out through a transactional outbox."""

SCHEMA = "reporting"
SOURCE = "/warroom/reporting"
