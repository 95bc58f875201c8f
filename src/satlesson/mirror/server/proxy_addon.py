"""mitmproxy addon: answer the lesson's hosts from the mirror's app, refuse every other host.

Loaded by ``mitmdump -s`` in the proxy's own environment (mitmproxy pins its dependencies
tightly, so it cannot share the lesson's), hence it imports nothing from satlesson: the
mirror passes the hosts and the app's address as options (``proxy.py`` starts it).

A request for ``https://HOST/PATH`` through the proxy is sent to the app as
``http://APP/HOST/PATH``, the same path the mirror's second door serves, so both doors
give the same answer. Other hosts get a 403 with a sentence unless tunnelling is allowed,
in which case their TLS passes through untouched (``ignore_hosts``).
"""

from __future__ import annotations

import re

from mitmproxy import ctx, http

REFUSED = ("The satlesson mirror serves only the lesson's services ({hosts}), not {host}. "
           "Ask your instructor, or use the live services: satlesson kernel remove.")


class MirrorRoute:
    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("satlesson_app", str, "", "host:port of the mirror's app")
        loader.add_option("satlesson_hosts", str, "", "comma-separated hosts the mirror serves")
        loader.add_option("satlesson_allow_other_hosts", bool, False,
                          "tunnel other hosts to the internet instead of refusing them")

    def configure(self, updated: set[str]) -> None:
        if {"satlesson_hosts", "satlesson_allow_other_hosts"} & updated:
            hosts = self.hosts()
            if ctx.options.satlesson_allow_other_hosts:
                # Intercept only the lesson's hosts; any other TLS passes through unread.
                alternatives = "|".join(re.escape(h) for h in hosts)
                ctx.options.ignore_hosts = [rf"^(?!({alternatives}):)"]

    def hosts(self) -> list[str]:
        return [h for h in ctx.options.satlesson_hosts.split(",") if h]

    def _refuse(self, flow: http.HTTPFlow, host: str) -> None:
        message = REFUSED.format(hosts=", ".join(self.hosts()), host=host)
        flow.response = http.Response.make(403, message.encode() + b"\n",
                                           {"Content-Type": "text/plain; charset=utf-8"})
        # Clients that fail a CONNECT show its status line, not its body.
        flow.response.reason = f"{host} is not served by the satlesson mirror"

    def http_connect(self, flow: http.HTTPFlow) -> None:
        host = flow.request.host
        if host not in self.hosts() and not ctx.options.satlesson_allow_other_hosts:
            self._refuse(flow, host)

    def request(self, flow: http.HTTPFlow) -> None:
        host = flow.request.pretty_host
        if host not in self.hosts():
            if not ctx.options.satlesson_allow_other_hosts:
                self._refuse(flow, host)
            return
        app_host, _, app_port = ctx.options.satlesson_app.rpartition(":")
        path = flow.request.path  # path and query, as sent
        flow.request.scheme = "http"
        flow.request.host = app_host
        flow.request.port = int(app_port)
        flow.request.path = f"/{host}{path}"


addons = [MirrorRoute()]
