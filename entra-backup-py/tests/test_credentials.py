"""Each way of signing in, against the simulator: client secret, certificate, bearer token."""

import json
import pathlib
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest

import entra_backup as eb


def test_certificate(sim: eb.SimServer, tmp_path: pathlib.Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate (scripts/test installs it)")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
         "-days", "2", "-subj", "/CN=entra-backup throwaway test certificate"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    pem = tmp_path / "app.pem"
    pem.write_bytes((tmp_path / "cert.pem").read_bytes() + (tmp_path / "key.pem").read_bytes())
    creds = eb.Credentials.certificate(sim.tenant_id, "cert-app", pem, graph_url=sim.url, authority_url=sim.url)
    assert creds.kind == "certificate" and "app.pem" in repr(creds)
    summary = eb.export(creds, tmp_path / "out", categories=["users"])
    assert summary["objects"] == sim.count("users")
    # A PEM without a key is refused when the credentials are made, naming the file.
    with pytest.raises(eb.EntraBackupError, match="cert.pem"):
        eb.Credentials.certificate(sim.tenant_id, "cert-app", tmp_path / "cert.pem", graph_url=sim.url)


def test_bearer_token(sim: eb.SimServer, tmp_path: pathlib.Path) -> None:
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": "app", "client_secret": "x", "scope": f"{sim.url}/.default"}
    ).encode()
    with urllib.request.urlopen(f"{sim.url}/{sim.tenant_id}/oauth2/v2.0/token", data=form) as r:
        token = json.load(r)["access_token"]
    creds = eb.Credentials.token(token, tenant_id=sim.tenant_id, graph_url=sim.url)
    assert (creds.kind, creds.client_id, creds.authority_url) == ("token", None, None)
    assert token not in repr(creds)
    repo = eb.Repository.init(str(tmp_path / "r"), eb.Access.plaintext())
    report = repo.backup(creds, categories=["users", "groups"], secrets=False)
    assert report["snapshot"]["tenant"]["id"] == sim.tenant_id
    assert report["snapshot"]["categories"]["users"]["objects"] == sim.count("users")
