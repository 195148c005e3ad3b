"""After publishing: the story writes back to its project's world (the `WorldUpdate` state, after
`OutputProcessing`).

What the story established (its characters and places, where its characters end and what they learned, who
died, its events) is read by one planning call, or deterministically from the job's own plan (the offline
engine, and the fallback of a model reply that stays unusable: llm/offline/world_facts.py), then merged into a
NEW version of the world, attributed `job:<job id>`. A project without a world gets its first one from the
story, so a series starts with its first story.

The merge never changes a locked entry: a story that contradicts one (a locked character dies, moves, learns)
is reported on the narrative as `world_conflicts`, not applied. Two jobs of one project finishing at once both
land: read the head, merge, write conditionally on it; a conflict re-reads and merges again, a few times, then
the error goes to Step Functions' Retry. A marker written in the world's own transaction is this step's
checkpoint: a retried or resumed job finds it and reports the outcome again instead of merging twice.

The job is COMPLETED before this runs (stage 10 completes it), so a reader never waits for the world, and a
world update that fails is recorded on the narrative (`world_update.status: failed`) without failing the job.
With a model, its one call is billed to the job like any other, under output_processing (the stage it follows),
after the job completed (the usage log entry is brought up to date, as for any call billed after the end).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from narraforge.data import keys, s3
from narraforge.data import worlds as store
from narraforge.data.models import WorldUpdateItem
from narraforge.enums import JobStatus, Stage
from narraforge.errors import BudgetExceeded, JobCancelled, ValidationFailed
from narraforge.llm.base import Provider
from narraforge.llm.offline import context_of
from narraforge.llm.offline.plans import deterministic_plan
from narraforge.observability import logger
from narraforge.pipeline.context import ModelRole
from narraforge.pipeline.job_context import JobStageContext
from narraforge.pipeline.prompts import world_update as prompt
from narraforge.pipeline.runner import load_job
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, final_output, plans, world
from narraforge.pipeline.text import truncate_words
from narraforge.schemas.worlds import (
    MAX_DOCUMENT_BYTES,
    MAX_LIST,
    MAX_NAME,
    MAX_SHORT,
    SECTIONS,
    Character,
    HistoryEvent,
    Place,
    Rule,
    StoryState,
    WorldDocument,
)

MAX_MERGE_RACES = 5  # merges in one invocation before the conflict goes to Step Functions' Retry
MAX_REASON = 500


class WorldUpdateRaced(Exception):
    """The world kept changing under the merge (other jobs or writers): Step Functions retries the step."""


# The reply of the extraction call ("what did the story establish?").
class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StoryCharacter(_Reply):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field("", max_length=1000)
    status: Literal["alive", "dead", "missing", "unknown"] | None = Field(
        None, description="At the end of the story; null when the story does not say")
    location: str | None = Field(None, max_length=MAX_NAME)
    learned: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=5)


class StoryPlace(_Reply):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field("", max_length=1000)


class StoryEvent(_Reply):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field("", max_length=1000)
    when: str | None = Field(None, max_length=MAX_SHORT)


class StoryFacts(_Reply):
    characters: list[StoryCharacter] = Field(default_factory=list, max_length=40)
    places: list[StoryPlace] = Field(default_factory=list, max_length=40)
    events: list[StoryEvent] = Field(min_length=1, max_length=prompt.MAX_ACTS)


def problems(reply: StoryFacts, story: dict[str, Any]) -> list[checks.Problem]:
    """The story's whole cast and all its places (a reply that leaves one out would leave it out of the world,
    and a sequel could not follow it: a small model answered `characters: []`), and only its own cast and places
    (a model must not invent entries), each once; bounded texts."""
    cast = {c["name"].casefold() for c in story["cast"]}
    places = {p["name"].casefold() for p in story["places"]}
    told = {c.name.casefold() for c in reply.characters}
    found = [checks.Problem(("characters",), f"{c['name']!r} of the cast is missing")
             for c in story["cast"] if c["name"].casefold() not in told]
    used = {p.name.casefold() for p in reply.places}
    found += [checks.Problem(("places",), f"{p['name']!r}, a place of the story, is missing")
              for p in story["places"] if p["name"].casefold() not in used]
    for i, character in enumerate(reply.characters):
        if character.name.casefold() not in cast:
            found.append(checks.Problem(("characters", i, "name"), f"{character.name!r} is not in the cast"))
        if character.location is not None and character.location.casefold() not in places:
            found.append(checks.Problem(("characters", i, "location"),
                                        f"{character.location!r} is not one of the places"))
    found += checks.distinct([c.name for c in reply.characters], ("characters",), "character name")
    for i, place in enumerate(reply.places):
        if place.name.casefold() not in places:
            found.append(checks.Problem(("places", i, "name"), f"{place.name!r} is not one of the places"))
    found += checks.distinct([p.name for p in reply.places], ("places",), "place name")
    for i, event in enumerate(reply.events):
        found += checks.text(event.name, ("events", i, "name"), max_chars=checks.TITLE_CHARS)
        found += checks.text(event.description, ("events", i, "description"), max_chars=checks.PARAGRAPH_CHARS)
    return found


@dataclass(frozen=True)
class StoryRef:
    """The story a merge attributes its facts to, and what a first world takes from it."""

    narrative_id: str
    narrative_version: int
    title: str
    summary: str = ""
    rules: list[str] = field(default_factory=list)


@dataclass
class Merged:
    document: WorldDocument
    created: bool
    added: dict[str, list[str]]
    changed: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    superseded: list[dict[str, Any]] = field(default_factory=list)


def merge(current: WorldDocument | None, found: StoryFacts, story: StoryRef, new_id: Callable[[], str]) -> Merged:
    """The world after this story: new characters, places and events added (each with a new id); the story's
    changes to existing characters (status, location, what they know) applied, unless the character is
    locked: then each changed field is a conflict, and the world keeps its value. Each character the story
    names gets its end state recorded under the story's version (`story_states`); when a later story has
    already set that character's state (this one is an earlier story, regenerated), its status and location
    are recorded there and reported as `superseded`, not made current. Existing entries keep their
    descriptions; a place or status the story does not state leaves the world's as it is."""
    created = current is None
    document = current.model_copy(deep=True) if current else _first_world(story, new_id)
    added: dict[str, list[str]] = {"characters": [], "places": [], "history": []}
    changed: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    superseded: list[dict[str, Any]] = []

    places = {p.name.casefold(): p for p in document.places}
    for place in found.places:
        if place.name.casefold() not in places:
            entry = Place(id=new_id(), name=place.name, description=place.description)
            document.places.append(entry)
            places[place.name.casefold()] = entry
            added["places"].append(entry.name)
    by_ref = places | {p.id.casefold(): p for p in document.places if p.id}

    def place_name(ref: str | None) -> str | None:
        entry = by_ref.get(ref.casefold()) if ref else None
        return entry.name if entry else None

    characters = {c.name.casefold(): index for index, c in enumerate(document.characters)}
    for told in found.characters:
        at = place_name(told.location)
        state = StoryState(narrative_id=story.narrative_id, narrative_version=story.narrative_version,
                           status=told.status, location=at)
        index = characters.get(told.name.casefold())
        if index is None:
            entry = Character(id=new_id(), name=told.name, description=told.description,
                              status=told.status or "alive", location=at, knows=told.learned[:MAX_LIST],
                              story_states=[state])
            document.characters.append(entry)
            characters[told.name.casefold()] = len(document.characters) - 1
            added["characters"].append(entry.name)
            continue
        existing = document.characters[index]
        changes: dict[str, Any] = {}
        if told.status and told.status != existing.status:
            changes["status"] = told.status
        if at and at != place_name(existing.location):
            changes["location"] = at
        known = {fact.casefold() for fact in existing.knows}
        learned = [fact for fact in dict.fromkeys(told.learned) if fact.casefold() not in known]
        if learned:
            changes["knows"] = [*existing.knows, *learned][-MAX_LIST:]
        if existing.locked:
            conflicts += [{"section": "characters", "id": existing.id, "name": existing.name, "field": name,
                           "world": getattr(existing, name) if name != "knows" else existing.knows,
                           "story": value if name != "knows" else learned}
                          for name, value in changes.items()]
            continue
        later = later_story(existing, story.narrative_id)
        if later:  # an earlier story rewritten: its end state is kept beside the later story's, not over it
            superseded += [{"section": "characters", "id": existing.id, "name": existing.name, "field": name,
                            "world": getattr(existing, name), "story": changes.pop(name), "later_story": later}
                           for name in ("status", "location") if name in changes]
        states = [s for s in existing.story_states
                  if (s.narrative_id, s.narrative_version) != (story.narrative_id, story.narrative_version)]
        document.characters[index] = existing.model_copy(
            update={**changes, "story_states": [*states, state][-MAX_LIST:]})
        if changes:
            changed.append({"section": "characters", "id": existing.id, "name": existing.name,
                            "fields": sorted(changes)})

    taken = {event.name.casefold() for event in document.history}
    for event in found.events:
        name = _unique(event.name, taken, story.title)
        entry = HistoryEvent(id=new_id(), name=name, description=event.description, when=event.when or None,
                             narrative_id=story.narrative_id, narrative_version=story.narrative_version)
        document.history.append(entry)
        added["history"].append(entry.name)
    return Merged(_checked(document), created, added, changed, conflicts, superseded)


def later_story(character: Character, narrative_id: str) -> str | None:
    """The first other story that set this character's state after `narrative_id` first did (None: none did,
    so this story's state is the newest and may become the character's current one)."""
    mine = next((i for i, s in enumerate(character.story_states) if s.narrative_id == narrative_id), None)
    if mine is None:
        return None
    return next((s.narrative_id for s in character.story_states[mine + 1:] if s.narrative_id != narrative_id), None)


def _first_world(story: StoryRef, new_id: Callable[[], str]) -> WorldDocument:
    """A project's first world, from its first story: the setting and its rules; the rest is merged in."""
    rules: list[Rule] = []
    taken: set[str] = set()
    for text in story.rules:
        name = _unique(truncate_words(text, 8).rstrip(" …").rstrip(".")[:MAX_NAME] or "Rule", taken, story.title)
        rules.append(Rule(id=new_id(), name=name, description=text[:4000]))
    return WorldDocument(summary=story.summary[:4000], rules=rules)


def _unique(name: str, taken: set[str], story_title: str) -> str:
    """`name`, else `name (story title)`, else numbered: names are unique per section."""
    candidates = [name, f"{name} ({story_title})"[:MAX_NAME]]
    candidates += [f"{name[:MAX_NAME - 6]} ({n})" for n in range(2, 1000)]
    chosen = next(c for c in candidates if c.casefold() not in taken)
    taken.add(chosen.casefold())
    return chosen


def _checked(document: WorldDocument) -> WorldDocument:
    """Within the world's limits (entries per section, size), or the update fails with the reason."""
    try:
        document = WorldDocument.model_validate(document.model_dump())
    except ValidationError as exc:
        raise ValidationFailed(f"the world would break its limits: {str(exc)[:300]}") from exc
    size = len(json.dumps(document.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(f"the world would be {size} bytes; at most {MAX_DOCUMENT_BYTES}")
    return document


def entry_counts(document: WorldDocument) -> dict[str, int]:
    return {section: len(getattr(document, section)) for section in SECTIONS}


def run(user_id: str, job_id: str, provider: Provider) -> dict[str, Any]:
    """The `world_update` step: merges the job's published story into its project's world, once."""
    job = load_job(user_id, job_id)
    if job.status != JobStatus.COMPLETED.value:
        raise ValidationFailed(f"the world is updated after publication; the job is {job.status}")
    done = store.update_of(job.project_id, job_id)
    if done is not None:  # an earlier attempt merged it: report it again, merge nothing
        logger.info("world update already applied", extra={"world_version": done.world_version})
        report(done.narrative_id, int(done.narrative_version), _outcome_of(done))
        return {"world_update": "applied", "world_version": int(done.world_version or 0)}
    ctx = JobStageContext(job=job, stage=Stage.OUTPUT_PROCESSING, segment=None, provider=provider,
                          calls_while=JobStatus.COMPLETED)
    published = ctx.output_of(Stage.OUTPUT_PROCESSING)
    narrative_id, version = str(published["narrative_id"]), int(published["version"])
    story = story_of(ctx)
    found, fallbacks = extract(ctx, story)
    setting = world(ctx)
    ref = StoryRef(narrative_id, version, story["title"], str(setting.get("setting_summary", "")),
                   [str(rule) for rule in setting.get("rules", [])])
    for _ in range(MAX_MERGE_RACES):
        head = store.head(job.project_id)
        current = WorldDocument.model_validate(store.read_document(head)) if head else None
        merged = merge(current, found, ref, keys.new_id)
        outcome = {"status": "applied", "created_world": merged.created, "added": merged.added,
                   "changed": merged.changed, "superseded": merged.superseded, "conflicts": merged.conflicts,
                   "fallbacks": fallbacks}
        marker = WorldUpdateItem(*WorldUpdateItem.key(job.project_id, job_id), job_id=job_id,
                                 project_id=job.project_id, narrative_id=narrative_id, narrative_version=version,
                                 outcome=outcome)
        try:
            new_head = store.write(user_id, job.project_id, merged.document.model_dump(mode="json"),
                                   based_on=head, entry_counts=entry_counts(merged.document),
                                   updated_by=f"job:{job_id}", marker=marker)
        except store.VersionConflict:
            logger.info("the world changed during the merge; merging again")
            continue
        except store.AlreadyApplied:  # a concurrent attempt of this same step landed first
            marker = store.update_of(job.project_id, job_id) or marker
        except store.ProjectGone:
            logger.info("the project was deleted; no world to update")
            return {"world_update": "skipped"}
        else:
            logger.info("world updated", extra={"world_version": new_head.version,
                                                "conflicts": len(merged.conflicts)})
        report(narrative_id, version, _outcome_of(marker))
        return {"world_update": "applied", "world_version": int(marker.world_version or 0)}
    raise WorldUpdateRaced(f"the world of project {job.project_id} kept changing during {MAX_MERGE_RACES} merges")


def story_of(ctx: JobStageContext) -> dict[str, Any]:
    """What the prompt and the deterministic reading need of the job's own outputs."""
    segments = plans(ctx)
    last = final_output(ctx, len(segments) - 1) if segments else None
    structure = ctx.output_of(Stage.STRUCTURE_DESIGN)
    return {
        "title": str(ctx.output_of(Stage.EDITORIAL_REVIEW).get("title") or ctx.brief.subject)[:MAX_NAME],
        "cast": ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"],
        "places": world(ctx).get("places", []),
        "acts": structure.get("acts", []),
        "ending": structure.get("ending", ""),
        "segments": segments,
        "closing_text": (last or {}).get("text", ""),
    }


def extract(ctx: JobStageContext, story: dict[str, Any]) -> tuple[StoryFacts, list[dict[str, Any]]]:
    """One checked planning call. The offline engine makes none (its answer would be the deterministic reading
    anyway, and a completed job's tokens and calls would grow after the fact); a job at its cost cap reads its
    plan deterministically too."""
    messages = prompt.messages(ctx.brief, story)
    if ctx.provider.name == "offline":
        return StoryFacts.model_validate(deterministic_plan(prompt.SCHEMA_NAME, context_of(messages), ctx.job_id)), []
    try:
        planned = ask_planned(ctx, ModelRole.PLANNING, messages, name=prompt.SCHEMA_NAME, model=StoryFacts,
                              max_tokens=2500, check=lambda reply: problems(reply, story))
    except BudgetExceeded:
        reading = deterministic_plan(prompt.SCHEMA_NAME, context_of(messages), ctx.job_id)
        return StoryFacts.model_validate(reading), [{"stage": "world_update", "field": "reply",
                                                     "reason": "the job's cost cap was reached"}]
    return planned.reply, planned.fallbacks


def _outcome_of(marker: WorldUpdateItem) -> dict[str, Any]:
    return {**(marker.outcome or {}), "world_version": int(marker.world_version or 0)}


def report(narrative_id: str, version: int, outcome: dict[str, Any]) -> None:
    """Records the outcome in the narrative version's metadata (GET /narratives/{id} returns it):
    `world_update` and the `world_conflicts` with locked entries. A deleted narrative has nothing to report on."""
    key = s3.narrative_metadata_key(narrative_id, version)
    try:
        metadata = s3.get_json(key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return
        raise
    conflicts = outcome.get("conflicts", [])
    metadata["world_update"] = {name: value for name, value in outcome.items() if name != "conflicts"}
    metadata["world_conflicts"] = conflicts
    s3.put_json(key, metadata)


def record_failure(user_id: str, job_id: str, error: dict[str, Any]) -> dict[str, Any]:
    """Catch target of `WorldUpdate`: the narrative says its world update failed, and why; the job stays
    COMPLETED (the story is delivered) and the world unchanged."""
    try:
        job = load_job(user_id, job_id)
    except JobCancelled:
        return {"recorded": False}
    try:
        published = s3.get_json(s3.stage_key(job_id, Stage.OUTPUT_PROCESSING.number, Stage.OUTPUT_PROCESSING.value))
    except ClientError:
        return {"recorded": False}  # nothing was published: no narrative to report on
    if job.status != JobStatus.COMPLETED.value:
        return {"recorded": False}
    report(str(published["narrative_id"]), int(published["version"]),
           {"status": "failed", "reason": _reason(error)})
    logger.error("world update failed", extra={"reason": _reason(error)})
    return {"recorded": True}


def _reason(error: dict[str, Any]) -> str:
    name, cause = str(error.get("Error") or "Unknown"), str(error.get("Cause") or "")
    try:
        parsed = json.loads(cause)
        name, cause = str(parsed.get("errorType") or name), str(parsed.get("errorMessage") or "")
    except (ValueError, AttributeError):
        pass
    return f"{name}: {cause}"[:MAX_REASON]
