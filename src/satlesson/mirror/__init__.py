"""Offline mirror of the lesson's data services.

Keep this module import-light: every routed kernel imports ``satlesson.mirror.client.routing``
(which needs only ``requests`` and ``urls``).
"""
