"""`python -m aoai_audit.cli`: the same entry as the console script, so internal errors exit 2 here too."""

from ..entry import main

main()
