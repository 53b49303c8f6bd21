#!/usr/bin/env python3
"""Create a blob container in Azurite (standard library only).

Usage: azurite_create_container.py NAME [ENDPOINT]      ENDPOINT defaults to http://127.0.0.1:10000

object_store cannot create containers and Azurite refuses unsigned requests (403), so this signs
the request with SharedKey using Azurite's well-known development account and key (public,
documented by Microsoft; they only ever work against the emulator). Exit 0 when the container
was created (201) or already exists (409).
"""
import base64
import hashlib
import hmac
import sys
import urllib.error
import urllib.request
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    name = sys.argv[1]
    endpoint = (sys.argv[2] if len(sys.argv) == 3 else "http://127.0.0.1:10000").rstrip("/")
    date = formatdate(usegmt=True)
    # urllib adds a Content-Type when data=b"", so set it explicitly and sign it.
    string_to_sign = (
        "PUT\n" + "\n" * 4 + "application/octet-stream\n" + "\n" * 6
        + f"x-ms-date:{date}\nx-ms-version:{VERSION}\n"
        + f"/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
    )
    digest = hmac.new(base64.b64decode(KEY), string_to_sign.encode(), hashlib.sha256).digest()
    request = urllib.request.Request(
        f"{endpoint}/{ACCOUNT}/{name}?restype=container",
        method="PUT",
        data=b"",
        headers={
            "Content-Type": "application/octet-stream",
            "x-ms-date": date,
            "x-ms-version": VERSION,
            "Authorization": f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            print(f"azurite: created container {name}")
    except urllib.error.HTTPError as e:
        if e.code != 409:
            print(f"azurite: creating container {name} failed: HTTP {e.code} {e.read().decode()}", file=sys.stderr)
            return 1
        print(f"azurite: container {name} exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
