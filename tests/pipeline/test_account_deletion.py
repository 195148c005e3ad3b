"""DELETE /auth/me leaves no item and no S3 object of the user (the table is scanned, the bucket listed)."""

from __future__ import annotations

import boto3

from tests.helpers import PASSWORD, register, wait_for_execution
from tests.pipeline.conftest import short_brief


def everything_in_table() -> list[dict]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    items, start = [], None
    while True:
        page = client.scan(TableName="narraforge-test", **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def every_object_version() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    page = s3.list_object_versions(Bucket="narraforge-test")
    return [v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


def test_account_deletion_removes_everything_of_the_user(api, provider):
    email = "leaving@example.com"
    auth = register(api, email)
    user = api.as_user(auth["access_token"])
    keeper = register(api)  # another user's data must survive
    keeper_client = api.as_user(keeper["access_token"])
    keeper_project = keeper_client.post("/projects/", json={"name": "Stays"}).json()["id"]

    project = user.post("/projects/", json={"name": "Goes"}).json()["id"]
    job = user.post("/jobs/", json={"project_id": project, "production_brief": short_brief(target_length=700)},
                    headers={"Idempotency-Key": "k1"}).json()
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    narrative_id = user.get(f"/jobs/{job['id']}").json()["narrative_id"]
    assert user.get(f"/narratives/{narrative_id}/export/md").status_code == 200
    user.post("/auth/refresh", json={"refresh_token": auth["refresh_token"]})
    assert any(job["id"] in key for key in every_object_version())

    assert user.delete("/auth/me", json={"password": "Wrong-passw0rd"}).status_code == 401
    assert user.delete("/auth/me", json={"password": PASSWORD}).status_code == 204

    uid = auth["user"]["id"]
    leftovers = [item for item in everything_in_table()
                 if any(marker in str(item) for marker in (uid, email, job["id"], narrative_id, project))]
    assert leftovers == []
    assert [key for key in every_object_version() if job["id"] in key or narrative_id in key] == []
    assert user.get("/auth/me").status_code == 401
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    assert keeper_client.get(f"/projects/{keeper_project}").status_code == 200
    # The email can be registered again.
    assert api.post("/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
