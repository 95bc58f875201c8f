"""The learner's side of a mirror: what a routed process or kernel needs, and nothing more.

The lesson's hosts and the mirror's path rule (``urls``), the settings that route a process to
a mirror's proxy (``routing``), the Jupyter kernel routed to one (``kernel``), the sentence that
kernel prints when its mirror stops answering (``gone``) and the demo Earthdata login
(``login``). A learner's install has none of the mirror's server libraries, so this package
imports no server code (``server``, ``synthetic``, ``recorded``): the import-linter contracts
in pyproject.toml say so, and ``lint-imports`` checks them.
"""
