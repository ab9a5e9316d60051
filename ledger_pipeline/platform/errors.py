class LedgerError(Exception):
    """A problem the user can act on. The command line prints it as one line and exits 2."""
