"""``python -m exportkb.cli``: the `exportkb` command."""
from .app import main

main()
