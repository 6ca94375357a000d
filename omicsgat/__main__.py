import sys

from omicsgat.cli import main

sys.exit(main())
