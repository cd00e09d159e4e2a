"""The statusline: what Claude Code pipes to a statusline command (``hook``), the line printed from it
(``line``), and ``cctelemetry statusline`` itself (``command``).

Standard library only, and nothing from the rest of the package is imported here: ``cctelemetry statusline``
runs on every statusline update, so it must start in a few tens of milliseconds, and the service renders the
same line with the same code.
"""
