"""The one exception type that reaches users."""


class EffbenchError(Exception):
    """A problem with the user's input or setup, worded as the one line the CLI prints.

    Raised before anything is written, or from inside a transaction that is then rolled back,
    so the database is left as it was.
    """
