"""What is read out of the rules: the meeting pack (report, sections, analysis), exports,
the JSON contracts of the CLI, and the README's generated reference."""
