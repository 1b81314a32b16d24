"""The Python client against servers that require a token and mutual TLS (certificates made by openssl)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from voxelfeed import FeedClient, FeedError, ReconnectPolicy

CROP = (8, 16, 16)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signed (P-256, two days)."""
    d = tmp_path_factory.mktemp("pki")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ):
        openssl("req", "-new", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "basicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "0x1234",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)
    (d / "token").write_text("s3cret-token\n")
    return d


def test_token_and_mutual_tls(pki, phantom_dir, start_server):
    server = start_server([
        "--data", str(phantom_dir), "--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key"),
        "--tls-client-ca", str(pki / "ca.crt"), "--auth-token-file", str(pki / "token"),
    ])
    tls = {name: (pki / f"{file}").read_bytes() for name, file in
           (("ca", "ca.crt"), ("cert", "client.crt"), ("key", "client.key"))}
    with FeedClient(server.address, tls=tls, token="s3cret-token") as client:
        batch = next(iter(client.stream_batches(crop_size=CROP, batch_size=2, max_steps=1)))
        assert batch.image.shape == (2, *CROP)
    with FeedClient(server.address, tls=tls, token="wrong") as client:
        with pytest.raises(FeedError) as caught:
            client.dataset_info()
        assert caught.value.code == "UNAUTHENTICATED"
    # Without a client certificate the handshake fails, which gRPC reports as UNAVAILABLE; the client gives up
    # after its attempts and says to check the TLS settings.
    no_cert = {"ca": tls["ca"]}
    with FeedClient(server.address, tls=no_cert, token="s3cret-token", reconnect=ReconnectPolicy(5, 20, 2)) as client:
        with pytest.raises(FeedError) as caught:
            client.dataset_info()
        assert caught.value.code == "UNAVAILABLE" and "TLS settings" in str(caught.value)
