"""N_ marks a msgid for extraction where it is translated later, when shown (pure, imports nothing)."""


def N_(msgid: str) -> str:
    return msgid
