"""One boto3 DynamoDB client on one table: calls, paginated Queries, batch writes, and the
translation of botocore failures into one-line errors.

botocore retries transient failures (``max_attempts``, default 3) with connect and read
timeouts (3 s, 6 s), so an endpoint that accepts and never answers fails in about 20 s;
throttling is retried further here with capped backoff and full jitter, and any other
service error is one line (StoreUnavailable, exit 3). Every Query goes through botocore's
paginator, so no caller can stop after the first page (1 MB) of a result.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..base import ReadOnlyStore, StoreUnavailable, chunks
from .codec import Attrs

BATCH = 25  # items per BatchWriteItem (the service's limit)
# Operations that write: refused (access denied) they mean read-only credentials.
WRITE_OPS = {"UpdateItem", "PutItem", "BatchWriteItem", "DeleteItem", "TransactWriteItems"}

THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException",
             "RequestLimitExceeded"}
# Error codes that mean "the store is not usable as configured", with what to do.
UNAVAILABLE_CODES = {
    "UnrecognizedClientException": "the AWS credentials were rejected; check AWS_PROFILE "
    "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    "InvalidSignatureException": "the AWS request signature was rejected; check the "
    "credentials and the region",
    "AccessDeniedException": "access denied; grant the dynamodb:* actions on the table "
    "to these credentials",
    "ExpiredTokenException": "the AWS session token has expired; refresh the credentials",
    "ProvisionedThroughputExceededException": "still throttled after retries; retry later "
    "or raise the table's capacity",
    "ThrottlingException": "still throttled after retries; retry later",
    "RequestLimitExceeded": "account request limit exceeded; retry later",
    "InternalServerError": "the DynamoDB service failed; retry later",
    "ServiceUnavailable": "the DynamoDB service is unavailable; retry later",
}


class Throttled(StoreUnavailable):
    """Still throttled after botocore's retries: retried again by ``Client.call``."""


class ConditionFailed(Exception):
    """A condition expression did not hold (handled where the condition was written)."""


def _backoff(attempt: int) -> None:
    """Capped exponential backoff with full jitter."""
    time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))


class Client:
    """A boto3 DynamoDB client bound to ``table`` (``label``: how errors name the table)."""

    def __init__(
        self,
        table: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        max_attempts: int = 3,
        retry_mode: str = "standard",
        connect_timeout: float = 3.0,
        read_timeout: float = 6.0,
        throttle_retries: int = 8,
        batch_retries: int = 10,
        page_size: int | None = None,
        label: str = "",
    ) -> None:
        self.table = table
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.read_timeout = read_timeout
        self.throttle_retries = throttle_retries
        self.batch_retries = batch_retries
        self.page_size = page_size  # items per Query page (None: the service's 1 MB pages)
        self.label = label
        self.region = region
        with self.errors("connect"):
            import boto3
            from botocore.config import Config as BotoConfig

            session = boto3.session.Session(profile_name=profile or None)
            retries: Any = {"mode": retry_mode, "max_attempts": max_attempts}
            self.boto: Any = session.client(
                "dynamodb",
                region_name=region or None,
                endpoint_url=endpoint_url or None,
                config=BotoConfig(
                    retries=retries,
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                ),
            )
            self.region = self.boto.meta.region_name

    @property
    def where(self) -> str:
        at = self.endpoint_url or f"AWS region {self.region}"
        return f"DynamoDB table '{self.table}'{self.label} at {at}"

    @contextmanager
    def errors(self, op: str) -> Iterator[None]:
        """Translate botocore failures into one-line StoreUnavailable messages."""
        from botocore import exceptions as bx

        try:
            yield
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise StoreUnavailable(
                "DynamoDB: no AWS credentials found; set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run `aws configure`)") from None
        except bx.NoRegionError:
            raise StoreUnavailable(
                "DynamoDB: no AWS region configured; set storage.dynamodb.region in "
                ".blue/config.yaml or BLUE_INDEX_DYNAMODB_REGION / AWS_REGION") from None
        except bx.ProfileNotFound as e:
            raise StoreUnavailable(f"DynamoDB: {e}; fix AWS_PROFILE or "
                                   f"storage.dynamodb.profile") from None
        except bx.ReadTimeoutError:
            raise StoreUnavailable(
                f"{self.where}: the endpoint did not answer {op} within "
                f"{self.read_timeout:g} s ({self.max_attempts} attempts); check endpoint_url "
                f"and that the server is healthy") from None
        except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ConnectTimeoutError,
                bx.HTTPClientError):
            raise StoreUnavailable(
                f"{self.where}: cannot reach the endpoint ({op}); check endpoint_url, the "
                f"network, or that the local DynamoDB server is running") from None
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            code = err.get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(op) from None
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    f"{self.where} does not exist; create it with `blue-index table create`"
                ) from None
            text = " ".join(str(err.get("Message") or e).split())
            if op in WRITE_OPS and (code in ("AccessDeniedException", "AccessDenied") or (
                    code == "403" and "not authorized" in text)):  # moto's IAM answer
                raise ReadOnlyStore(
                    f"{self.where}: {op} was denied: these AWS credentials may read the "
                    "table but not write it; use credentials with dynamodb write access",
                    where=self.where) from None
            if code in THROTTLED:
                raise Throttled(
                    f"{self.where}: {op} failed: {UNAVAILABLE_CODES[code]}") from None
            if code in UNAVAILABLE_CODES:
                raise StoreUnavailable(
                    f"{self.where}: {op} failed: {UNAVAILABLE_CODES[code]}") from None
            raise StoreUnavailable(f"{self.where}: {op} failed: {code or 'error'}: "
                                   f"{text[:300]}") from None

    def call(self, op: str, **kw: Any) -> dict[str, Any]:
        """One API call (``op`` in CamelCase, e.g. ``GetItem``); throttling retried here
        beyond botocore's attempts."""
        method = getattr(self.boto, "".join(
            "_" + c.lower() if c.isupper() else c for c in op).lstrip("_"))
        attempt = 0
        while True:
            try:
                with self.errors(op):
                    result: dict[str, Any] = method(**kw)
                    return result
            except Throttled:
                attempt += 1
                if attempt > self.throttle_retries:
                    raise
                _backoff(attempt)

    def query(self, **kw: Any) -> Iterator[Attrs]:
        """Every item of a Query on the table (``TableName`` added), page after page through
        botocore's paginator. A page still throttled after botocore's retries is asked
        again from where the last page ended."""
        paginator = self.boto.get_paginator("query")
        config = {"PageSize": self.page_size} if self.page_size else {}
        kw["TableName"] = self.table
        attempt = 0
        while True:
            try:
                with self.errors("Query"):
                    for page in paginator.paginate(**kw, PaginationConfig=config):
                        yield from page.get("Items", [])
                        attempt = 0
                        if "LastEvaluatedKey" in page:  # where a retry resumes
                            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
                    return
            except Throttled:
                attempt += 1
                if attempt > self.throttle_retries:
                    raise
                _backoff(attempt)

    def batch_write(self, requests: list[Attrs],
                    before: Callable[[], None] | None = None,
                    after: Callable[[], None] | None = None) -> None:
        """BatchWriteItem by 25; UnprocessedItems retried with capped backoff + full jitter.
        ``before`` / ``after`` run around each batch (the store's lease check, test seam)."""
        for chunk in chunks(requests, BATCH):
            if before is not None:
                before()
            pending: dict[str, Any] = {self.table: chunk}
            attempt = 0
            while pending:
                resp = self.call("BatchWriteItem", RequestItems=pending)
                pending = {t: r for t, r in (resp.get("UnprocessedItems") or {}).items() if r}
                if pending:
                    attempt += 1
                    if attempt > self.batch_retries:
                        raise StoreUnavailable(
                            f"{self.where}: writes still unprocessed after {attempt} "
                            f"retries (throttled); retry later or raise the table's capacity")
                    _backoff(attempt)
            if after is not None:
                after()

    def close(self) -> None:
        self.boto.close()
