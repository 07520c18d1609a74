"""``backends.mps``: Apple's Metal GPU. minitorch_cv has no Metal backend, so it is never there
(torch answers the same on any machine that is not an Apple-silicon Mac)."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
