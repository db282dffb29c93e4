"""Complaint register core: schema, parsing, validation, rules. Never imports streamlit."""
