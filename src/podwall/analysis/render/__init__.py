"""One module per output format, shared by every command."""
