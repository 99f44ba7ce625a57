"""What the local agent says: ``echo`` (always there), ``rules`` and ``llm``.

The factory (:func:`voicecli.agent.factory.build_voice`) picks one by name.
"""
