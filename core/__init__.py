"""Complaint register core. Packages follow the data flow (docs/architecture.md):
store/ (the spreadsheet) → reading/ (schema, typing, validation) → rules/ → reports/ and
commands/ → front/ (CLI, sign-in, serving). Never imports streamlit."""
