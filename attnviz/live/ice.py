"""The ICE servers of the live page's WebRTC connection (``ATTNVIZ_ICE_SERVERS``).

By default none: the browser and the server exchange host candidates only, which is enough on
one machine or a LAN, and no server outside the machine is contacted. (streamlit-webrtc, and
aiortc, would otherwise fill in Google's public STUN server; an explicit empty list stops both.)
For other networks the operator names a STUN or TURN server, either as URLs separated by commas,
``ATTNVIZ_ICE_SERVERS=stun:stun.example.org:3478``, or as a JSON list of RTCIceServer objects,
``ATTNVIZ_ICE_SERVERS='[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}]'``.
"""
from __future__ import annotations

import json
import os

from ..errors import AttnvizError
from ..i18n import _

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def _bad(value: str, why: str) -> AttnvizError:
    return AttnvizError(_("ATTNVIZ_ICE_SERVERS={value} cannot be used: {why}. Give STUN/TURN URLs separated by "
                          "commas (stun:host:port), or a JSON list such as "
                          "[{{\"urls\": \"turn:host:3478\", \"username\": \"u\", \"credential\": \"p\"}}], "
                          "or unset it.").format(value=repr(value), why=why))


def ice_servers(value: str | None = None) -> list[dict]:
    """RTCIceServer dicts from ``value`` (default: ``ATTNVIZ_ICE_SERVERS``); [] when unset."""
    value = (os.environ.get("ATTNVIZ_ICE_SERVERS", "") if value is None else value).strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            servers = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _bad(value, _("it is not valid JSON ({error})").format(error=exc.msg)) from None
    else:
        servers = [{"urls": url.strip()} for url in value.split(",") if url.strip()]
    if not isinstance(servers, list):
        raise _bad(value, _("it is not a list"))
    for server in servers:
        urls = server.get("urls") if isinstance(server, dict) else None
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u.startswith(SCHEMES) for u in urls):
            raise _bad(value, _("every server needs \"urls\" starting with stun:, stuns:, turn: or turns:"))
    return servers


def rtc_configuration(value: str | None = None) -> dict:
    """The configuration for both sides of the connection: always an explicit iceServers list."""
    return {"iceServers": ice_servers(value)}
