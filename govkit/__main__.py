"""``python -m govkit``."""

from govkit.cli import main

main()
