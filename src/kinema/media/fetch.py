"""Fetching outside URLs safely: http(s) only, a timeout, a size cap, and every hop
(including each redirect) checked against private, loopback, link-local and multicast
addresses unless KINEMA_ALLOW_PRIVATE_URLS is set."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5


class UnsafeURL(ValueError):
    """The URL is malformed, not http(s), or points at a refused address."""


class FetchError(ValueError):
    """The URL was allowed but could not be fetched within the limits."""


def check_url(url: str, *, allow_private: bool) -> str:
    """Raise UnsafeURL unless `url` is an http(s) URL whose host is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise UnsafeURL("the URL has no host")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(host, parts.port or 0, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"host {host!r} does not resolve") from exc
    for info in infos:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            str(info[4][0]).split("%")[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast
                or addr.is_reserved or addr.is_unspecified):
            raise UnsafeURL(
                f"host {host!r} resolves to a non-public address ({addr}); "
                "set KINEMA_ALLOW_PRIVATE_URLS=1 to allow it"
            )
    return url


def fetch_bytes(url: str, *, allow_private: bool, max_bytes: int, timeout: float) -> bytes:
    """GET `url`, following redirects by hand so that each hop is checked again."""
    return b"".join(iter_fetch(url, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout))


def fetch_file(url: str, dest: Path, *, allow_private: bool, max_bytes: int, timeout: float) -> int:
    """GET `url` into `dest` without holding it in memory (large files, such as videos)."""
    size = 0
    tmp = dest.with_name(dest.name + ".part")
    with tmp.open("wb") as out:
        for chunk in iter_fetch(url, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout):
            out.write(chunk)
            size += len(chunk)
    tmp.replace(dest)
    return size


def iter_fetch(url: str, *, allow_private: bool, max_bytes: int, timeout: float) -> Iterator[bytes]:
    """The body of `url` in chunks, every redirect hop checked, FetchError past `max_bytes`."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, allow_private=allow_private)
            try:
                with client.stream("GET", url) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        url = urljoin(url, resp.headers["location"])
                        continue
                    if resp.status_code != 200:
                        raise FetchError(f"the URL answered HTTP {resp.status_code}")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"the file is larger than {max_bytes} bytes")
                    size = 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchError(f"the file is larger than {max_bytes} bytes")
                        yield chunk
                    return
            except httpx.TimeoutException as exc:
                raise FetchError(f"the URL did not answer within {timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"the URL could not be fetched ({type(exc).__name__})") from exc
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")
