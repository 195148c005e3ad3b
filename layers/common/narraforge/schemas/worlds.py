"""A project's world ("story bible"): the document clients read and write whole (PUT) or in part (PATCH).

Field-level limits live here; the rules across entries (unique names and ids, references between entries, the
document's total size) are checked by `services/worlds.py`, which can name the entry at fault. Unknown fields
are refused rather than ignored: the document is stored as sent, and a misspelt field silently dropped would be
lost on the next write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ENTRIES_PER_SECTION = 1000
MAX_DOCUMENT_BYTES = 512 * 1024  # compact UTF-8 JSON; a 1,000-entry world of short entries fits
MAX_NAME = 120
MAX_TEXT = 4000
MAX_SHORT = 200
MAX_LIST = 50

EntryId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SHORT)]
SECTIONS = ("places", "rules", "history", "factions", "glossary", "characters")


class WorldModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Entry(WorldModel):
    """What every entry has. `id` is stable: assigned on creation when absent (an entry sent without one keeps
    the id of the same-named entry of the current version), so stories and later versions can refer to it."""

    id: EntryId | None = Field(None, description="Stable id; assigned (a ULID) when absent")
    name: Name = Field(description="Unique within its section (case-insensitive)")
    description: Text = ""
    locked: bool = Field(False, description="The pipeline never changes a locked entry; you still can")


class Place(Entry):
    kind: Short | None = Field(None, examples=["city"])


class Rule(Entry):
    domain: Literal["magic", "technology", "society", "nature", "other"] = "other"


class HistoryEvent(Entry):
    when: Short | None = Field(None, examples=["Year 312 of the Ember Age"])
    narrative_id: EntryId | None = Field(None, description="The story that established it, if any")
    narrative_version: int | None = Field(None, ge=1, description="Which version of that story")


class Faction(Entry):
    pass


class GlossaryTerm(Entry):
    pass


class Relationship(WorldModel):
    to: Name = Field(description="Another character of this world, by id or name")
    kind: Short = Field(examples=["sister"])


class StoryState(WorldModel):
    """Where one version of one story left a character (written by the world update). A regenerated story adds
    its own, so both versions' facts stay, each attributed; a sequel starts from its prequel's."""

    narrative_id: EntryId
    narrative_version: int = Field(ge=1)
    status: Literal["alive", "dead", "missing", "unknown"] | None = Field(None, description="Null: not stated")
    location: Name | None = None


class Character(Entry):
    """A character and their state now: alive or not, where, whom they are bound to, what they know."""

    status: Literal["alive", "dead", "missing", "unknown"] = "alive"
    location: Name | None = Field(None, description="A place of this world, by id or name")
    relationships: list[Relationship] = Field(default_factory=list, max_length=MAX_LIST)
    knows: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=MAX_LIST, description="Facts this character knows")
    story_states: list[StoryState] = Field(
        default_factory=list, max_length=MAX_LIST,
        description="Where each story (version) left this character, oldest first; written by the pipeline")


class WorldDocument(WorldModel):
    """The whole world. Its version is not part of it: it travels as the response's `ETag`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "summary": "A drowned archipelago where magic is paid for in memories.",
        "places": [{"name": "Saltmere", "kind": "city", "description": "A port built on sunken towers"}],
        "rules": [{"name": "Memory price", "domain": "magic", "locked": True,
                   "description": "Every spell costs the caster a memory"}],
        "characters": [{"name": "Mira Vell", "status": "alive", "location": "Saltmere",
                        "knows": ["The tide-clock is broken"]}],
    }]})

    summary: Text = ""
    places: list[Place] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)
    history: list[HistoryEvent] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)
    factions: list[Faction] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)
    glossary: list[GlossaryTerm] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)
    characters: list[Character] = Field(default_factory=list, max_length=MAX_ENTRIES_PER_SECTION)


class WorldVersionResponse(BaseModel):
    version: int
    entry_counts: dict[str, int] = Field(description="Entries per section", examples=[{"places": 3, "rules": 1}])
    entries: int = Field(description="All entries")
    size_bytes: int
    updated_at: datetime
    updated_by: str = Field(description="`user:<id>` for a write through the API")
