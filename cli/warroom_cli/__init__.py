"""The `warroom` command."""
