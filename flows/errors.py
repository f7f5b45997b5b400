"""Exception root of the runtime."""


class RuntimeProblem(Exception):
    """Raised when the runtime cannot do what was asked (unknown complaint, bad token, bad settings)."""
