"""Microsoft's own Python Graph SDK (msgraph-sdk with azure-identity) as a client of the simulator.

If the simulator strays from Graph, Microsoft's parsers and page iterators fail here. The test starts
`entra-backup sim serve`, puts a TLS front before it (MSAL accepts only an https authority), signs in
with azure-identity's ClientSecretCredential, and compares what the SDK reads with the ground truth
the simulator publishes under /_sim/.
"""

from __future__ import annotations

import asyncio
import datetime
import http.server
import json
import os
import pathlib
import socketserver
import ssl
import subprocess
import tempfile
import threading
import urllib.request

import pytest
from azure.identity.aio import ClientSecretCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph_core import PageIterator

ROOT = pathlib.Path(__file__).resolve().parents[3]
BINARY = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "entra-backup"
USERS = 1500


def _self_signed(directory: pathlib.Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def _tls_front(upstream: str, cert: str, key: str) -> tuple[socketserver.TCPServer, int]:
    """A minimal HTTPS reverse proxy to the simulator, for MSAL's https-only authority."""

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "accept-encoding")}
            headers["X-Forwarded-Proto"] = "https"
            req = urllib.request.Request(upstream + self.path, data=body, headers=headers, method=self.command)
            try:
                resp = urllib.request.urlopen(req)
            except urllib.error.HTTPError as err:
                resp = err
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture(scope="module")
def sim():
    assert BINARY.exists(), f"build the CLI first (cargo build -p entra-backup-cli): {BINARY}"
    proc = subprocess.Popen(
        [str(BINARY), "sim", "serve", "--addr", "127.0.0.1:0", "--seed", "3", "--users", str(USERS),
         "--groups", "60", "--throttle", "off"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("listening on http://"), first
        url = first.removeprefix("listening on ")
        with urllib.request.urlopen(url + "/_sim/summary") as r:
            summary = json.load(r)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = _self_signed(pathlib.Path(tmp))
            front, port = _tls_front(url, cert, key)
            try:
                yield {"url": url, "authority": f"https://localhost:{port}", "cert": cert, "summary": summary}
            finally:
                front.shutdown()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(sim) -> tuple[GraphServiceClient, ClientSecretCredential]:
    credential = ClientSecretCredential(
        sim["summary"]["tenantId"],
        "11111111-2222-3333-4444-555555555555",
        "any-secret-the-simulator-accepts",
        authority=sim["authority"],
        disable_instance_discovery=True,
        connection_verify=sim["cert"],
    )
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = sim["url"] + "/v1.0"
    return client, credential


def _truth(sim, path: str):
    with urllib.request.urlopen(sim["url"] + "/_sim/" + path) as r:
        return json.load(r)


def _run(sim, body):
    async def go():
        client, credential = _client(sim)
        try:
            return await body(client)
        finally:
            await credential.close()

    return asyncio.run(go())


def test_users_page_iterator_reads_every_user(sim):
    async def body(client: GraphServiceClient):
        config = RequestConfiguration()
        config.query_parameters = client.users.UsersRequestBuilderGetQueryParameters(top=999)
        first = await client.users.get(request_configuration=config)
        seen = []

        def collect(user) -> bool:
            seen.append(user.id)
            return True

        iterator = PageIterator(first, client.request_adapter)
        await iterator.iterate(collect)
        return seen

    ids = _run(sim, body)
    assert len(ids) == USERS == sim["summary"]["counts"]["users"]
    assert len(set(ids)) == USERS


def test_users_delta_runs_to_its_delta_link(sim):
    async def body(client: GraphServiceClient):
        page = await client.users.delta.get()
        count, pages = len(page.value), 1
        while page.odata_next_link:
            page = await client.users.delta.with_url(page.odata_next_link).get()
            count += len(page.value)
            pages += 1
        return count, pages, page.odata_delta_link

    count, pages, delta_link = _run(sim, body)
    assert count == USERS
    assert pages > 1
    assert delta_link and "$deltatoken=" in delta_link


def test_group_members_match_the_ground_truth(sim):
    groups = _truth(sim, "objects/groups")
    sizes = {g["id"]: len(_truth(sim, f"links/groups/{g['id']}/members")) for g in groups[:40]}
    gid = max(sizes, key=sizes.get)
    assert sizes[gid] > 100, "a large group to page through"

    async def body(client: GraphServiceClient):
        first = await client.groups.by_group_id(gid).members.get()
        members = []
        iterator = PageIterator(first, client.request_adapter)
        await iterator.iterate(lambda m: members.append(m) or True)
        listed = await client.groups.get()
        all_groups = []
        await PageIterator(listed, client.request_adapter).iterate(
            lambda g: all_groups.append(g) or True
        )
        return members, all_groups

    members, all_groups = _run(sim, body)
    assert len(members) == sizes[gid]
    assert all(m.odata_type.startswith("#microsoft.graph.") for m in members)
    assert len(all_groups) == sim["summary"]["counts"]["groups"]


def test_conditional_access_policies_parse(sim):
    async def body(client: GraphServiceClient):
        page = await client.identity.conditional_access.policies.get()
        return page.value

    policies = _run(sim, body)
    assert len(policies) == sim["summary"]["counts"]["conditionalAccessPolicies"] > 0
    assert all(p.conditions is not None and p.state is not None for p in policies)


def test_bitlocker_key_read_with_select_key(sim):
    keys = _truth(sim, "objects/bitlockerRecoveryKeys")
    assert keys

    async def body(client: GraphServiceClient):
        listed = await client.information_protection.bitlocker.recovery_keys.get()
        config = RequestConfiguration()
        builder = client.information_protection.bitlocker.recovery_keys.by_bitlocker_recovery_key_id(keys[0]["id"])
        config.query_parameters = builder.BitlockerRecoveryKeyItemRequestBuilderGetQueryParameters(select=["key"])
        one = await builder.get(request_configuration=config)
        return listed.value, one

    listed, one = _run(sim, body)
    assert listed
    assert all(k.key is None for k in listed)
    assert one.key == keys[0]["key"]
