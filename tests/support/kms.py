"""A real moto server (HTTP, on 127.0.0.1) for the KMS key source tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dynamo import (
    MotoServer,
    dynamo_endpoint,
    dynamo_store_factory,
    fake_aws_credentials,
)

__all__ = ["kms_endpoint", "aws_env", "kms_key", "dynamo_endpoint", "dynamo_store_factory",
           "fake_aws_credentials"]

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def kms_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a moto server for KMS: the session's DynamoDB moto server (one server serves
    every service), or one started here when that fixture points at real AWS."""
    shared = request.getfixturevalue("dynamo_endpoint")
    if shared:
        yield shared
        return
    server = MotoServer().start()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy credentials in this process's environment (boto3 reads them from there)."""
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    return dict(CREDENTIALS)


@pytest.fixture
def kms_key(kms_endpoint: str, aws_env: dict[str, str]) -> str:
    """A fresh KMS key (its id) on the moto server."""
    import boto3

    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)
    return str(kms.create_key()["KeyMetadata"]["KeyId"])
