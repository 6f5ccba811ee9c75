"""The published `fireworks-ai` SDK manages datasets on Tally, unchanged but for its base URL."""

import json

import fireworks
import pytest
import requests

ROWS = [
    {"messages": [{"role": "user", "content": f"2+{i}?"}, {"role": "assistant", "content": str(2 + i)}], "ground_truth": str(2 + i)}
    for i in range(25)
]
JSONL = "".join(json.dumps(r) + "\n" for r in ROWS).encode()


def _download(client, dataset_id: str) -> bytes:
    endpoint = client.datasets.get_download_endpoint(dataset_id)
    urls = endpoint.filename_to_signed_urls if hasattr(endpoint, "filename_to_signed_urls") else endpoint["filenameToSignedUrls"]
    (url,) = urls.values()
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.content


def test_create_upload_get_list_download_delete(client, tmp_path):
    created = client.datasets.create(dataset={"display_name": "Math", "example_count": "25"}, dataset_id="sdk-math")
    assert created.name == "accounts/compat/datasets/sdk-math"
    assert created.state == "UPLOADING"

    path = tmp_path / "math.jsonl"
    path.write_bytes(JSONL)
    with path.open("rb") as f:
        client.datasets.upload("sdk-math", file=f)

    got = client.datasets.get("sdk-math")
    assert got.state == "READY"
    assert got.example_count == "25"
    assert got.format == "CHAT"

    names = [d.name for d in client.datasets.list(page_size=1)]
    assert "accounts/compat/datasets/sdk-math" in names

    assert _download(client, "sdk-math") == JSONL

    client.datasets.delete("sdk-math")
    with pytest.raises(fireworks.NotFoundError):
        client.datasets.get("sdk-math")


def test_signed_url_upload_flow(client):
    client.datasets.create(dataset={"display_name": "Signed"}, dataset_id="sdk-signed")
    endpoint = client.datasets.get_upload_endpoint("sdk-signed", filename_to_size={"rows.jsonl": str(len(JSONL))})
    urls = endpoint.filename_to_signed_urls if hasattr(endpoint, "filename_to_signed_urls") else endpoint["filenameToSignedUrls"]
    response = requests.put(
        urls["rows.jsonl"],
        data=JSONL,
        headers={"Content-Type": "application/octet-stream", "X-Goog-Content-Length-Range": f"{len(JSONL)},{len(JSONL)}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    client.datasets.validate_upload("sdk-signed", body={})
    got = client.datasets.get("sdk-signed")
    assert got.state == "READY" and got.example_count == "25"


def test_errors_surface_as_sdk_exceptions(client):
    client.datasets.create(dataset={}, dataset_id="sdk-dup")
    with pytest.raises(fireworks.ConflictError):
        client.datasets.create(dataset={}, dataset_id="sdk-dup")
    with pytest.raises(fireworks.BadRequestError) as bad:
        client.datasets.create(dataset={}, dataset_id="Not_Valid")
    assert "datasetId" in str(bad.value)


def test_another_accounts_key_is_refused(tally):
    from fireworks import Fireworks

    stranger = Fireworks(api_key="tly_unknown", account_id="compat", base_url=tally["base_url"], max_retries=0)
    with pytest.raises(fireworks.AuthenticationError):
        stranger.datasets.list()
