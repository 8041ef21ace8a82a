"""The command line: thin. Parse arguments, call one function, render, set the exit code."""
