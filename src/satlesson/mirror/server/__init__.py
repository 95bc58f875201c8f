"""The servers: pgstac databases, the ASGI app in front of them and the file server, and the
process management behind ``satlesson mirror serve/run/build``."""
