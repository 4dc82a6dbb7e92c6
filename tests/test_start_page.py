"""The start page and the site icon: what a person who just started the server sees first."""

from __future__ import annotations

import signal
import struct
from pathlib import Path

import httpx

from tests.conftest import Server, cli, free_port


def test_the_start_page_says_what_to_do_next(server: Server) -> None:
    page = httpx.get(server.base)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    main = page.text.split("<main", 1)[1]  # not the header's links
    assert 'href="/.account/signup"' in main and "commonpod account create NAME" in main
    assert f"<code>{server.base}</code>" in main  # the identity provider to give an app
    assert f"{server.base}NAME/profile/card#me" in main
    assert "reverse proxy" in main and "master key" in main  # http: how to open it to others


def test_behind_tls_the_start_page_leaves_out_the_local_setup_notice(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    cli("init", "--base-url", "https://pods.example/", data_dir=data)
    srv = Server(data, port).start()
    try:
        page = httpx.get(srv.base)
        assert page.status_code == 200
        assert "<code>https://pods.example/</code>" in page.text
        assert "commonpod account create NAME" in page.text
        assert "reverse proxy" not in page.text
    finally:
        srv.stop(signal.SIGKILL)


def test_favicon_is_an_icon(server: Server) -> None:
    icon = httpx.get(server.base + "favicon.ico")
    assert icon.status_code == 200, icon.text
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"
    reserved, kind, count = struct.unpack("<HHH", icon.content[:6])  # ICONDIR
    assert (reserved, kind) == (0, 1) and count >= 1
    sizes = {icon.content[6 + 16 * i] or 256 for i in range(count)}  # ICONDIRENTRY widths
    assert 16 in sizes and 32 in sizes
    head = httpx.head(server.base + "favicon.ico")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(icon.content))
    assert httpx.put(server.base + "favicon.ico", content=b"x").status_code == 405
