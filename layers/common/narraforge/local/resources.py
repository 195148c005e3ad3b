"""Creates the template's table and bucket (and later the state machine) in whatever AWS endpoint is set."""

from __future__ import annotations

import boto3

from narraforge.config import get_settings
from narraforge.local.template import table_definition, ttl_attribute


def create_resources() -> None:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region)
    dynamodb.create_table(**table_definition(settings.table_name))
    ttl = ttl_attribute()
    if ttl:
        dynamodb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
        )
    s3 = boto3.client("s3", region_name=settings.aws_region)
    s3.create_bucket(Bucket=settings.bucket_name)
    s3.put_bucket_versioning(Bucket=settings.bucket_name, VersioningConfiguration={"Status": "Enabled"})
