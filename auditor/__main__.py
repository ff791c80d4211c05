"""`python -m aoai_audit`: the same entry as the console script."""

from .entry import main

main()
