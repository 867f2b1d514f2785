"""``python -m tokbench``: the same as the ``tokbench`` command."""

from tokbench.cli.main import main

if __name__ == "__main__":
    main()
