"""Exception root of the models package."""


class ModelError(Exception):
    """Raised when domain data is inconsistent (an event for another complaint, a naive time)."""
