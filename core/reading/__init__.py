"""Reading and typing the register: the schema of its tabs and columns (sheets_schema/),
parsing the values people type, validating each row, and the bilingual text of both.
Imports nothing above it: no store, rule, report, command or front end."""
