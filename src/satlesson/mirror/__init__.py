"""Offline mirror of the lesson's data services.

Keep this module import-light: the kernel routing hook imports ``satlesson.mirror.urls``.
"""
