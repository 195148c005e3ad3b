"""A writer's whole journey with the `narraforge` command, over HTTP against the local stack: every command a
user types, checked against what the API itself answers."""

from __future__ import annotations

import json
import stat

import httpx
import pytest
from narraforge_cli.progress import STAGES

from tests.cli.conftest import Cli

pytestmark = pytest.mark.e2e


def api_get(cli: Cli, path: str) -> httpx.Response:
    token = json.loads(cli.config_file.read_text())["access_token"]
    return httpx.get(f"{cli.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_register_write_read_export_regenerate_usage_logout(cli: Cli):
    email = cli.register()
    assert stat.S_IMODE(cli.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_file.parent.stat().st_mode) == 0o700
    stored = json.loads(cli.config_file.read_text())
    assert stored["email"] == email and stored["api"] == cli.url and stored["access_token"]

    created = cli("projects", "create", "Harbour tales", "--genre", "mystery", "--type", "short_story")
    assert created.returncode == 0, created.stderr
    project_id = created.last_line
    listed = cli("projects", "list", "--json")
    assert [p["id"] for p in json.loads(listed.stdout)] == [project_id]
    assert project_id in cli("projects", "list").stdout  # the table shows whole ids, never cut

    # write --wait: the progress names every stage in order and the command ends with the narrative's id.
    written = cli("write", "--subject", "A harbour pilot finds a ship that sailed in from the future",
                  "--length", "600", "--cast", "2", "--project", "Harbour tales", "--wait")
    assert written.returncode == 0, written.stderr
    positions = [written.stderr.index(f"{stage}: done") for stage in STAGES]
    assert positions == sorted(positions), written.stderr
    narrative_id = written.last_line
    detail = api_get(cli, f"/narratives/{narrative_id}")
    assert detail.status_code == 200, detail.text
    narrative = detail.json()
    assert narrative["project_id"] == project_id
    assert (narrative["genre"], narrative["production_type"]) == ("mystery", "short_story")  # the project's defaults

    status = cli("status", narrative["job_id"], "--json")
    job = json.loads(status.stdout)
    assert status.returncode == 0 and job["status"] == "COMPLETED" and job["narrative_id"] == narrative_id
    assert job["production_brief"]["target_length"] == 600 and job["production_brief"]["character_count"] == 2
    human_status = cli("status", narrative["job_id"])
    assert "COMPLETED" in human_status.stdout and "output_processing" in human_status.stdout

    read = cli("read", narrative_id)
    assert read.returncode == 0 and read.stdout.strip() == api_get(cli, f"/narratives/{narrative_id}/text").text.strip()
    assert json.loads(cli("read", narrative_id, "--json").stdout)["narrative_text"] == narrative["narrative_text"]

    exported = cli("export", narrative_id, "pdf", "-o", "story.pdf")
    assert exported.returncode == 0, exported.stderr
    pdf = (cli.home / "story.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert exported.last_line == "story.pdf"

    versions = json.loads(cli("versions", narrative_id, "--json").stdout)
    assert [v["version"] for v in versions] == [1]

    again = cli("regenerate", narrative_id, "--instructions", "Make the ending hopeful", "--wait")
    assert again.returncode == 0, again.stderr
    assert again.last_line == narrative_id and "output_processing: done" in again.stderr
    versions = json.loads(cli("versions", narrative_id, "--json").stdout)
    assert [(v["version"], v["instructions"], v["is_current"]) for v in versions] == [
        (1, None, False), (2, "Make the ending hopeful", True)]

    usage = cli("usage", "--json")
    report = json.loads(usage.stdout)
    assert usage.returncode == 0 and report["generations_used"] == 2
    assert {entry["status"] for entry in report["log"]["items"]} == {"COMPLETED"}

    old_token = json.loads(cli.config_file.read_text())["access_token"]
    logged_out = cli("logout")
    assert logged_out.returncode == 0, logged_out.stderr
    assert "access_token" not in json.loads(cli.config_file.read_text())
    # The server ended the session too: the token that was stored no longer works.
    me = httpx.get(f"{cli.url}/auth/me", headers={"Authorization": f"Bearer {old_token}"}, timeout=30)
    assert me.status_code == 401
    after = cli("usage")
    assert after.returncode == 3 and "narraforge login" in after.stderr


def test_brief_from_yaml_and_json_files_with_flags_overriding(cli: Cli):
    cli.register()
    (cli.home / "brief.yaml").write_text(
        "production_type: podcast_script\ngenre: comedy\n"
        "subject: Two rival bakers host a podcast about the worst cakes in history\n"
        "target_length: 300\ncharacter_count: 2\nstyle_instructions: Dry and quick\n")
    from_yaml = cli("write", "--brief", "brief.yaml", "--genre", "horror", "--json")
    assert from_yaml.returncode == 0, from_yaml.stderr
    job = json.loads(from_yaml.stdout)
    brief = job["production_brief"]
    assert (brief["production_type"], brief["genre"], brief["target_length"], brief["character_count"],
            brief["style_instructions"]) == ("podcast_script", "horror", 300, 2, "Dry and quick")
    assert "My stories" in cli("projects", "list").stdout  # no project yet: the CLI made one

    (cli.home / "brief.json").write_text(json.dumps({
        "production_brief": {"production_type": "short_story", "genre": "sci_fi", "target_length": 400,
                             "subject": "A botanist on a generation ship finds seeds that should not exist"}}))
    from_json = cli("write", "--brief", "brief.json", "--wait", "--json")
    assert from_json.returncode == 0, from_json.stderr
    finished = json.loads(from_json.stdout)
    assert finished["status"] == "COMPLETED" and finished["narrative_id"]
    assert (finished["production_brief"]["genre"], finished["production_brief"]["target_length"]) == ("sci_fi", 400)

    followed = cli("status", job["id"], "--wait", "--json")
    assert followed.returncode == 0 and json.loads(followed.stdout)["status"] == "COMPLETED"

    (cli.home / "broken.yaml").write_text("subject: [unclosed\n")
    broken = cli("write", "--brief", "broken.yaml")
    assert broken.returncode == 2 and "neither YAML nor JSON" in broken.stderr


def test_wait_on_a_terminal_draws_a_live_bar_per_stage(cli: Cli):
    """rich treats the output as a terminal (TTY_COMPATIBLE=1, as a real one is): ten bars redrawn in place."""
    cli.register()
    written = cli("write", "--subject", "A cartographer maps a city that moves at night", "--length", "300",
                  "--wait", env={"TTY_COMPATIBLE": "1"})
    assert written.returncode == 0, written.stderr
    assert written.stderr.count("overall") >= 2  # drawn, then redrawn over itself (cursor moves), not appended
    assert "\x1b[" in written.stderr and "━" in written.stderr
    final = written.stderr[written.stderr.rindex("overall"):]
    assert "COMPLETED 100%" in final
    for number, stage in enumerate(STAGES, 1):
        assert f"{number:>2}. {stage}" in final and final.index(f"{number:>2}. {stage}") < final.index("Done in")
    assert final.count(" done ") == 10
    assert written.last_line in final  # "Read it: narraforge read <id>", then the id alone on stdout
