"""Tally serving HTTPS itself (`--tls-cert`/`--tls-key`): the SDK's `upload_dataset_shards`, which
refuses signed URLs that are not https, uploads a dataset in shards against it. The certificate is
self-signed, made here with openssl, and trusted through SSL_CERT_FILE (which httpx honours)."""

import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from fireworks import Fireworks
from fireworks.lib.dataset_upload import upload_dataset_shards

from conftest import ROOT, _free_port

ACCOUNT = "tls"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def tls_tally():
    data_dir = Path(tempfile.mkdtemp(prefix="tally-tls-"))
    cert, key = _self_signed(Path(tempfile.mkdtemp(prefix="tally-tls-cert-")))
    port = _free_port()
    api_key = "tly_tls_" + secrets.token_urlsafe(24)
    env = {**os.environ, "TALLY_DATA_DIR": str(data_dir), "TALLY_PORT": str(port), "TALLY_ACCOUNT_ID": ACCOUNT, "TALLY_API_KEY": api_key}
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen([str(ROOT / "bin" / "tally"), "serve", "--tls-cert", str(cert), "--tls-key", str(key)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tally serve exited early: {(data_dir / 'server.log').read_text()}")
        try:
            if httpx.get(f"{base}/healthz", verify=str(cert), timeout=1).is_success:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("tally serve --tls-cert did not start within 60 s")
    yield {"base_url": base, "api_key": api_key, "cert": cert}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_plain_http_is_not_served_on_the_tls_port(tls_tally):
    with pytest.raises(httpx.TransportError):
        httpx.get(tls_tally["base_url"].replace("https://", "http://") + "/healthz", timeout=5).raise_for_status()


def test_upload_dataset_shards_over_https(tls_tally, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_tally["cert"]))
    client = Fireworks(api_key=tls_tally["api_key"], account_id=ACCOUNT, base_url=tls_tally["base_url"], max_retries=0)
    shards = tmp_path / "shards"
    shards.mkdir()
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]} for i in range(30)]
    for n, part in enumerate((rows[:10], rows[10:25], rows[25:])):
        (shards / f"part-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    client.datasets.create(dataset_id="sharded", dataset={"user_uploaded": {}, "example_count": "30"})

    upload_dataset_shards(client, "sharded", str(shards))

    dataset = client.datasets.get("sharded")
    assert dataset.state == "READY"
    assert dataset.example_count == "30"
    (url,) = client.datasets.get_download_endpoint("sharded").filename_to_signed_urls.values()
    assert url.startswith("https://")
    downloaded = httpx.get(url, verify=str(tls_tally["cert"]), timeout=30).text
    assert [json.loads(line) for line in downloaded.splitlines()] == rows
