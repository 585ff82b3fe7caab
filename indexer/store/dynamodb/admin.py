"""Table administration: create (with its indexes, on-demand billing), wait, describe, delete."""

from __future__ import annotations

from typing import Any

from ..base import StoreUnavailable
from .client import Client
from .keys import INDEXES

WAIT_DELAY_S = 1
WAIT_ATTEMPTS = 300  # how long ``create_table`` waits for ACTIVE: 300 x 1 s


def table_definition(table: str) -> dict[str, Any]:
    """The CreateTable request: ``pk``/``sk`` and the sparse indexes of ``INDEXES``."""
    attrs = {"pk", "sk"} | {a for pk_, sk_, _ in INDEXES.values() for a in (pk_, sk_)}
    gsis = []
    for name, (pk_, sk_, include) in INDEXES.items():
        proj: dict[str, Any] = {"ProjectionType": "ALL"}
        if include is not None:
            proj = {"ProjectionType": "INCLUDE", "NonKeyAttributes": include}
        gsis.append({
            "IndexName": name,
            "KeySchema": [{"AttributeName": pk_, "KeyType": "HASH"},
                          {"AttributeName": sk_, "KeyType": "RANGE"}],
            "Projection": proj,
        })
    return {
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                 for a in sorted(attrs)],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": gsis,
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(client: Client, wait: bool = True) -> bool:
    """Create the table and its indexes. True if it was created, False if it already
    existed; waits until ACTIVE (bounded: ``WAIT_ATTEMPTS`` x ``WAIT_DELAY_S``) either way,
    and refuses a table of that name without this layout's indexes."""
    from botocore.exceptions import ClientError

    created = True
    with client.errors("CreateTable"):
        try:
            client.boto.create_table(**table_definition(client.table))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False
    if wait:
        wait_active(client)
    missing = set(INDEXES) - set(describe(client).get("indexes", []))
    if missing:
        raise StoreUnavailable(
            f"{client.where} exists without the indexes {sorted(missing)}; it was not "
            f"created by blue-index: use another table name (storage.dynamodb.table)")
    return created


def wait_active(client: Client) -> None:
    """Until the table exists and is ACTIVE (botocore's waiter, bounded)."""
    with client.errors("DescribeTable"):
        client.boto.get_waiter("table_exists").wait(
            TableName=client.table,
            WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_ATTEMPTS})


def describe(client: Client) -> dict[str, Any]:
    """What ``blue-index table create`` and ``status`` print about the table."""
    with client.errors("DescribeTable"):
        t = client.boto.describe_table(TableName=client.table)["Table"]
    return {
        "status": t.get("TableStatus"),
        "items_approx": t.get("ItemCount"),
        "indexes": sorted(g["IndexName"] for g in t.get("GlobalSecondaryIndexes", [])),
    }


def delete_table(client: Client) -> None:
    with client.errors("DeleteTable"):
        client.boto.delete_table(TableName=client.table)
