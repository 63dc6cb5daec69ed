"""An S3-compatible server for the tests: TEST_S3_ENDPOINT_URL when set (`.ci/run` starts moto's
server there), else a moto server started on a free port for this run; a fresh bucket per test."""
from __future__ import annotations

import os
import secrets
import socket

import boto3
import pytest
from botocore.config import Config

from oversight.adapters.files import S3FileStore

PREFIX = "oversight/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    if os.environ.get("TEST_S3_ENDPOINT_URL"):
        yield os.environ["TEST_S3_ENDPOINT_URL"]
        return
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_endpoint) -> dict:
    """The app's settings for a bucket made for this test (emptied and removed after it)."""
    settings = {"FILE_STORE": "s3", "S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": f"test-{secrets.token_hex(6)}",
                "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
                "S3_KEY_PREFIX": PREFIX, "S3_ADDRESSING_STYLE": "path"}
    client = client_of(settings)
    client.create_bucket(Bucket=settings["S3_BUCKET"])
    yield settings
    for name in object_names(client, settings["S3_BUCKET"]):
        client.delete_object(Bucket=settings["S3_BUCKET"], Key=name)
    client.delete_bucket(Bucket=settings["S3_BUCKET"])


@pytest.fixture
def s3_store(s3_settings, tmp_path) -> S3FileStore:
    """A store on the test's bucket, its working files in a folder of the test's own."""
    return S3FileStore(client_of(s3_settings), s3_settings["S3_BUCKET"], PREFIX, scratch=tmp_path / "scratch")


def client_of(settings: dict):
    return boto3.client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name=settings["S3_REGION"],
                        aws_access_key_id=settings["S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=settings["S3_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"}))


def object_names(client, bucket: str) -> list[str]:
    """Every object in the bucket, sorted."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
