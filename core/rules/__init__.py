"""The rules (RULES.md): working-day calendar, policy presets, clocks and deadlines, flags,
closure, the next step, access, scoring and statistics, built on one typed read of the
register (register.py). No rule imports a store, report, command or front end."""
