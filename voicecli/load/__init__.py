"""Many concurrent scenario sessions from one process (``voicecli load``, the Locust user)."""
