"""The `narraforge` command-line client: a user of the public HTTP API, nothing more (it never imports the server)."""
