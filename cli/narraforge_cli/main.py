"""`narraforge`: brief, watch, read and export narratives from a terminal, through the public API only."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Column, Table

from narraforge_cli import config as config_store
from narraforge_cli.client import Api, CliError, ExitCode
from narraforge_cli.progress import STAGES, follow, raise_unless_completed, stage_state

EXIT_CODES = (
    "Exit codes: 0 ok · 1 other error (server, network) · 2 usage error · 3 not logged in or session expired (401) · "
    "4 not found (404) · 5 plan or rate limit (403/429) · 6 job failed or cancelled · 7 invalid input (422)."
)
app = typer.Typer(
    name="narraforge", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Write narratives with NarraForge from the terminal. Log in once (`narraforge login`), then "
         "`narraforge write --subject \"...\" --wait`.",
    epilog=EXIT_CODES,
)
projects_app = typer.Typer(help="List and create projects.", no_args_is_help=True)
app.add_typer(projects_app, name="projects")

out = Console(highlight=False, soft_wrap=True, markup=False)  # user data (names, titles) is never markup
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
# Made for a first `write` without a project; its defaults let `--subject` alone be a whole brief.
DEFAULT_PROJECT = {"name": "My stories", "default_production_type": "short_story", "default_genre": "literary"}
ID_COLUMN = Column("id", no_wrap=True)  # ids are copied into the next command: never cut


@dataclass
class State:
    api_flag: str | None = None
    json: bool = False


state = State()
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
ApiOption = Annotated[str | None, typer.Option(
    "--api", help=f"API base URL. Else ${config_store.API_ENV}, else the one you logged in to, "
                  f"else {config_store.DEFAULT_API}.")]
WaitOption = Annotated[bool, typer.Option("--wait", help="Follow the job with a progress bar per stage until it ends.")]
VersionOption = Annotated[int | None, typer.Option("--version", "-v", min=1,
                                                   help="An older version (default: newest).")]


@app.callback()
def options(api_url: ApiOption = None, as_json: JsonOption = False) -> None:
    state.api_flag = api_url
    state.json = as_json


def session(as_json: bool, api_url: str | None) -> Api:
    """The API client for one command; `--json` and `--api` after the command work like before it."""
    state.json = state.json or as_json
    state.api_flag = api_url or state.api_flag
    stored = config_store.load()
    return Api(config_store.resolve_api(state.api_flag, stored), stored)


def emit(data: Any, human: str | Table | None = None) -> None:
    """JSON on stdout with --json, else the human rendering."""
    if state.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif human is not None:
        out.print(human)


def money(usd: float | None, places: int = 4) -> str:
    """The API says null when a model without a known price was used: unknown, not free."""
    return "unknown cost" if usd is None else f"${usd:.{places}f}"


def note(message: str) -> None:
    """Chatter for people goes to stderr: stdout stays what a script captures (an id, the text)."""
    if not state.json:
        err.print(message)


# ---- account -------------------------------------------------------------------------------------------------

EmailOption = Annotated[str, typer.Option("--email", "-e", prompt=True, help="Your email.")]
PasswordOption = Annotated[str, typer.Option(
    "--password", "-p", prompt=True, hide_input=True, envvar="NARRAFORGE_PASSWORD",
    help="Prompted for (hidden) when left out; or $NARRAFORGE_PASSWORD.")]
NewPasswordOption = Annotated[str, typer.Option(
    "--password", "-p", prompt=True, hide_input=True, confirmation_prompt=True, envvar="NARRAFORGE_PASSWORD",
    help="12+ characters, any kind. Prompted for twice (hidden) when left out; or $NARRAFORGE_PASSWORD.")]


@app.command()
def register(email: EmailOption, password: NewPasswordOption,
             name: Annotated[str | None, typer.Option("--name", help="Your full name.")] = None,
             as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Create an account and log in."""
    api = session(as_json, api_url)
    body = {"email": email, "password": password, "full_name": name}
    _signed_in(api, api.json("POST", "/auth/register", auth=False, json=body))


@app.command()
def login(email: EmailOption, password: PasswordOption, as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Log in; the session is kept in your config directory (mode 0600) for the next commands."""
    api = session(as_json, api_url)
    _signed_in(api, api.json("POST", "/auth/login", auth=False, json={"email": email, "password": password}))


def _signed_in(api: Api, auth: dict[str, Any]) -> None:
    api.remember(auth)
    user = auth["user"]
    emit({"email": user["email"], "api": api.base_url, "config": str(config_store.config_path()), "user": user},
         f"Logged in to {api.base_url} as {user['email']} ({user['subscription_tier']})")


@app.command()
def logout(as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """End the session on the server and forget its tokens."""
    api = session(as_json, api_url)
    if api.config.access_token:
        try:
            api.request("POST", "/auth/logout")
        except CliError as error:
            if error.exit_code is not ExitCode.AUTH:  # an expired session is as good as ended
                raise
    api.config.access_token = api.config.refresh_token = api.config.email = None
    config_store.save(api.config)
    emit({"logged_out": True}, "Logged out")


# ---- projects --------------------------------------------------------------------------------------------------

@projects_app.command("list")
def projects_list(as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Your projects, newest first."""
    items = _all_projects(session(as_json, api_url))
    table = Table(ID_COLUMN, "name", "genre", "type", "narratives", "words")
    for item in items:
        table.add_row(item["id"], item["name"], item.get("default_genre") or "", item.get("default_production_type")
                      or "", str(item["narrative_count"]), str(item["total_word_count"]))
    emit(items, table if items else "No projects yet: `narraforge projects create NAME`")


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(help="The project's name.")],
    description: Annotated[str | None, typer.Option(help="What it is about.")] = None,
    genre: Annotated[str | None, typer.Option(help="Default genre of its briefs.")] = None,
    production_type: Annotated[str | None, typer.Option("--type", help="Default production type.")] = None,
    as_json: JsonOption = False,
    api_url: ApiOption = None,
) -> None:
    """Create a project; prints its id."""
    body = {"name": name, "description": description, "default_genre": genre, "default_production_type":
            production_type}
    project = session(as_json, api_url).json("POST", "/projects/",
                                             json={k: v for k, v in body.items() if v is not None})
    emit(project, project["id"])


def _all_projects(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"page_size": 100}
    while True:
        page = api.json("GET", "/projects/", params=params)
        items.extend(page["items"])
        if not page.get("next_cursor"):
            return items
        params = {"page_size": 100, "cursor": page["next_cursor"]}


def _project_id(api: Api, wanted: str | None) -> str:
    """A project by id or name; without one, the newest project, or a new one named "My stories"."""
    projects = _all_projects(api)
    if wanted:
        for project in projects:
            if wanted in (project["id"], project["name"]):
                return project["id"]
        raise CliError(f"No project with id or name {wanted!r}: see `narraforge projects list`", ExitCode.NOT_FOUND)
    if projects:
        return projects[0]["id"]
    project = api.json("POST", "/projects/", json=DEFAULT_PROJECT)
    note(f"Created project {DEFAULT_PROJECT['name']!r} ({project['id']}; short stories, literary unless --type/"
         "--genre say otherwise)")
    return project["id"]


# ---- writing and following jobs --------------------------------------------------------------------------------

BRIEF_FLAGS = {"production_type": "--type", "genre": "--genre", "subject": "--subject",
               "style_instructions": "--style", "target_length": "--length", "character_count": "--cast",
               "setting_period": "--period", "pov": "--pov", "language": "--language", "title": "--title"}


def read_brief(path: Path) -> dict[str, Any]:
    """A brief file: YAML or JSON (YAML reads both), with the API's field names; `project` may name the project."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"Cannot read the brief {path}: {exc.strerror}", ExitCode.USAGE) from exc
    except yaml.YAMLError as exc:
        raise CliError(f"The brief {path} is neither YAML nor JSON: {exc}", ExitCode.USAGE) from exc
    if not isinstance(data, dict):
        raise CliError(f"The brief {path} must be a mapping of fields (production_type, genre, subject, ...)",
                       ExitCode.USAGE)
    return data.get("production_brief", data) | {k: data[k] for k in ("project", "project_id") if k in data}


@app.command()
def write(
    subject: Annotated[str | None, typer.Option("--subject", "-s", help="What the story is about (10+ chars).")] = None,
    production_type: Annotated[str | None, typer.Option(
        "--type", "-t", help="short_story, novella, novel, epic_saga, screenplay, stage_play, podcast_script.")] = None,
    genre: Annotated[str | None, typer.Option("--genre", "-g", help="fantasy, sci_fi, mystery, horror, ...")] = None,
    style: Annotated[str | None, typer.Option("--style", help="Style instructions.")] = None,
    length: Annotated[int | None, typer.Option("--length", help="Target length in words.")] = None,
    cast: Annotated[int | None, typer.Option("--cast", help="Number of named characters.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Setting period.")] = None,
    pov: Annotated[str | None, typer.Option(
        "--pov", help="first, second, third_limited, third_omniscient.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="en or pl.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="A title (else the pipeline names it).")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="Project id or name (default: your newest, or a new \"My stories\").")] = None,
    brief_file: Annotated[Path | None, typer.Option(
        "--brief", "-b", help="A YAML or JSON file with the brief's fields; flags override it.")] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiOption = None,
) -> None:
    """Start a narrative from a brief (flags or --brief FILE): prints the job id, or with --wait the narrative's."""
    api = session(as_json, api_url)
    brief = read_brief(brief_file) if brief_file else {}
    flags = {"production_type": production_type, "genre": genre, "subject": subject, "style_instructions": style,
             "target_length": length, "character_count": cast, "setting_period": period, "pov": pov,
             "language": language, "title": title}
    brief.update({k: v for k, v in flags.items() if v is not None})
    named_in_file = brief.pop("project_id", None) or brief.pop("project", None)
    brief.pop("project", None)
    project_ref = project or named_in_file
    if not brief.get("subject"):
        raise CliError("A brief needs a subject: --subject \"...\" or `subject:` in --brief FILE", ExitCode.USAGE)
    job = api.generation("POST", "/jobs/", {"project_id": _project_id(api, project_ref), "production_brief": brief})
    _started_or_followed(api, job, wait)


JobArg = Annotated[str, typer.Argument(help="The job's id.")]


@app.command()
def status(job_id: JobArg, wait: WaitOption = False,
           as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """A job's status and stages; with --wait, follow it until it ends."""
    api = session(as_json, api_url)
    if wait:
        _follow_to_end(api, job_id)
        return
    job = api.json("GET", f"/jobs/{job_id}")
    emit(job, _job_table(job))


@app.command()
def cancel(job_id: JobArg, as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Stop a queued or running job."""
    job = session(as_json, api_url).json("POST", f"/jobs/{job_id}/cancel")
    emit(job, f"Job {job['id']}: {job['status']}")


@app.command()
def resume(job_id: JobArg, wait: WaitOption = False,
           as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Continue a failed or cancelled job from its first unfinished stage."""
    api = session(as_json, api_url)
    _started_or_followed(api, api.json("POST", f"/jobs/{job_id}/resume"), wait)


def _started_or_followed(api: Api, job: dict[str, Any], wait: bool) -> None:
    if wait:
        _follow_to_end(api, job["id"])
        return
    note(f"Job {job['id']} {job['status'].lower()}; follow it with `narraforge status {job['id']} --wait`")
    emit(job, job["id"])


def _follow_to_end(api: Api, job_id: str) -> None:
    """Follows the job; the narrative id on stdout when it completes, exit 6 when it fails or is cancelled.
    Ctrl-C stops following, never the job."""
    try:
        job = follow(api, job_id, err, show=not state.json)
    except KeyboardInterrupt:
        err.print(f"\nStopped following; job {job_id} keeps running. Follow it again: narraforge status {job_id} "
                  "--wait")
        raise typer.Exit(130) from None
    if state.json:
        emit(job)
    if job.get("status") != "COMPLETED":
        raise_unless_completed(job)
    note(f"Done in {job.get('duration_seconds') or 0:.1f} s, {job.get('tokens_used', 0)} tokens, "
         f"{money(job.get('actual_cost_usd'))}. Read it: narraforge read {job['narrative_id']}")
    if not state.json:
        out.print(job["narrative_id"])


def _job_table(job: dict[str, Any]) -> Table:
    table = Table("stage", "state", show_header=True, title=f"Job {job['id']}: {job['status']} "
                  f"{float(job.get('progress_percentage') or 0):.0f}%")
    for number, stage in enumerate(STAGES, 1):
        table.add_row(f"{number:>2}. {stage}", stage_state(job, stage))
    if job.get("narrative_id"):
        table.caption = f"narrative {job['narrative_id']}"
    elif job.get("error_message"):
        table.caption = job["error_message"]
    return table


# ---- narratives ------------------------------------------------------------------------------------------------

NarrativeArg = Annotated[str, typer.Argument(help="The narrative's id.")]


@app.command()
def read(narrative_id: NarrativeArg, version: VersionOption = None, as_json: JsonOption = False,
         api_url: ApiOption = None) -> None:
    """Print a narrative's text (--json: text, metadata and quality metrics)."""
    api = session(as_json, api_url)
    params = {"version": version} if version else {}
    if state.json:
        emit(api.json("GET", f"/narratives/{narrative_id}", params=params))
        return
    sys.stdout.write(api.request("GET", f"/narratives/{narrative_id}/text", params=params).text.rstrip("\n") + "\n")


@app.command()
def export(
    narrative_id: NarrativeArg,
    export_format: Annotated[str, typer.Argument(metavar="FORMAT", help="txt, md, pdf, epub or docx.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: ID.FORMAT).")] = None,
    version: VersionOption = None,
    as_json: JsonOption = False,
    api_url: ApiOption = None,
) -> None:
    """Download a narrative as txt, md, pdf, epub or docx."""
    api = session(as_json, api_url)
    response = api.request("GET", f"/narratives/{narrative_id}/export/{export_format.lower()}",
                           params={"version": version} if version else {}, follow_redirects=True)
    target = output or Path(f"{narrative_id}.{export_format.lower()}")
    try:
        target.write_bytes(response.content)
    except OSError as exc:
        raise CliError(f"Cannot write {target}: {exc.strerror}") from exc
    emit({"file": str(target), "bytes": len(response.content), "content_type": response.headers.get("content-type")},
         str(target))
    note(f"Saved {len(response.content):,} bytes")


@app.command()
def versions(narrative_id: NarrativeArg, as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """Every version of a narrative, oldest first."""
    items = session(as_json, api_url).json("GET", f"/narratives/{narrative_id}/versions")
    table = Table("version", "created", "words", "instructions", "current")
    for item in items:
        table.add_row(str(item["version"]), item["created_at"][:19], str(item["word_count"]),
                      item.get("instructions") or "", "*" if item["is_current"] else "")
    emit(items, table)


@app.command()
def regenerate(
    narrative_id: NarrativeArg,
    instructions: Annotated[str | None, typer.Option("--instructions", "-i", help="What to change.")] = None,
    from_stage: Annotated[str | None, typer.Option(
        "--from-stage", help="Re-run from this stage (default segment_generation): " + ", ".join(STAGES[:-1]))] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", metavar="FIELD=VALUE", help="Change a brief field (repeatable), e.g. --set genre=horror.")] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiOption = None,
) -> None:
    """Write a new version of a narrative; prints the job id, or with --wait follows it."""
    api = session(as_json, api_url)
    body: dict[str, Any] = {"instructions": instructions, "from_stage": from_stage,
                            "brief_overrides": dict(_override(item) for item in overrides or [])}
    job = api.generation("POST", f"/narratives/{narrative_id}/regenerate",
                         {k: v for k, v in body.items() if v not in (None, {})})
    _started_or_followed(api, job, wait)


def _override(item: str) -> tuple[str, Any]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise CliError(f"--set takes FIELD=VALUE, not {item!r}", ExitCode.USAGE)
    return name.strip(), int(value) if value.strip().isdigit() else value


@app.command()
def usage(as_json: JsonOption = False, api_url: ApiOption = None) -> None:
    """This month's generations and cost against your plan, and the jobs that ended."""
    report = session(as_json, api_url).json("GET", "/usage", params={"page_size": 20})
    limit = report["generation_limit"] if report["generation_limit"] is not None else "unlimited"
    cap = money(report["cost_limit_usd"], 2) if report["cost_limit_usd"] is not None else "no cap"
    table = Table(Column("job", no_wrap=True), "status", "calls", "tokens", "cost", "ended", title=(
        f"{report['month']} · {report['subscription_tier']} · generations {report['generations_used']}/{limit} · "
        f"cost {money(report['cost_used_usd'])} ({cap}) · resets {report['resets_at'][:10]}"))
    for entry in report["log"]["items"]:
        table.add_row(entry["job_id"], entry["status"], str(entry["llm_calls"]), str(entry["tokens_used"]),
                      money(entry["cost_usd"]), entry["created_at"][:19])
    emit(report, table)


def main() -> None:
    """The console script: failures become a message and an exit code, never a traceback."""
    try:
        app()
    except CliError as error:
        if state.json:
            print(json.dumps(error.as_json(), ensure_ascii=False), file=sys.stderr)
        else:
            err.print(f"Error: {error.message}", markup=False)
            for line in error.field_errors(BRIEF_FLAGS):
                err.print(f"  {line}", markup=False)
        sys.exit(int(error.exit_code))
    except config_store.ConfigError as error:
        err.print(f"Error: {error}", markup=False)
        sys.exit(int(ExitCode.ERROR))
