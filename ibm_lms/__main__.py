"""`python -m ibm_lms` is the `ibm-lms` command."""

from ibm_lms.cli import main

main()
