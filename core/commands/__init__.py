"""The write side: registering a complaint and recording its steps (intake), and the
letters sent to complainants (letters, templates, PDF)."""
