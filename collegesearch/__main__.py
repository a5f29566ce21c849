"""``python -m collegesearch``: the same command line as the ``collegesearch`` script."""

from collegesearch.cli import main

if __name__ == "__main__":
    main()
