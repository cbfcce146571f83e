"""``python -m exportkb.cli``: the `exportkb` command."""
from .app import main

if __name__ == "__main__":  # not under multiprocessing's spawn, which imports this module as __mp_main__
    main()
