"""Audio I/O: capture, playback, resampling, devices, WAV files and file-backed devices.

This is the only package that imports ``sounddevice``; it does so lazily, so that a
machine without PortAudio still runs text-only sessions.
"""
