"""Print the README's set-up commands, so that CI runs exactly what a new user is told to run.

Usage: readme_commands.py [README.md] → line 1: the exit code the README documents for the first command,
then one line per command (the ```sh blocks of the "Try it" section, in order).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def setup_commands(readme: str) -> tuple[int, list[str]]:
    section = re.search(r"^## Try it.*?(?=^## )", readme, re.S | re.M)
    if not section:
        raise SystemExit("README.md has no '## Try it' section")
    blocks = re.findall(r"```sh\n(.*?)```", section[0], re.S)
    commands = [" ".join(line.strip() for line in b.strip().splitlines()) for b in blocks]
    documented = re.search(r"exits \*\*(\d)\*\*", section[0])
    if len(commands) != 2 or not documented:
        raise SystemExit("the 'Try it' section must hold two ```sh commands and say which code the first exits with")
    return int(documented[1]), commands


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    code, commands = setup_commands(path.read_text(encoding="utf-8"))
    print(code)
    print("\n".join(commands))
