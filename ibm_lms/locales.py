"""The eight interface languages (pure): English first, the source of every text and the last fallback."""

LOCALES = ("en", "ru", "uk", "ka", "hy", "az", "ro", "be")
