import sys

from satlesson.cli import main

sys.exit(main())
