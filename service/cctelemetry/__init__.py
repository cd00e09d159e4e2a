"""cctelemetry: what AI coding agents cost, from OpenTelemetry and transcripts, stored in ClickHouse."""

__version__ = "0.1.0"
