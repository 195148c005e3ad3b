"""`python -m narraforge_cli`, the same as the `narraforge` console script."""

from narraforge_cli.main import main

main()
