"""What the front ends share: the CLI (`python -m core …`), opening the register and the
demo, sign-in and sessions, and starting the dashboard safely."""
