"""An in-memory StageContext and a whole-pipeline runner over it (no AWS): the stage content's test bed, shared
by the tests and the benchmarks (which is why it lives here, outside tests/ and outside the layer). Outputs
round-trip through JSON, as they would through S3."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from narraforge.config import get_settings
from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message, Provider
from narraforge.llm.offline import OfflineEngine
from narraforge.pipeline.context import AssembledNarrative, ModelRole
from narraforge.pipeline.layout import map_items
from narraforge.schemas.briefs import ProductionBrief


@dataclass
class CallRecord:
    stage: Stage
    segment: int | None
    role: ModelRole
    schema: str | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


@dataclass
class MemoryContext:
    """StageContext over dicts. `stage`/`segment` are set by the runner before each call."""

    job_id: str
    brief: ProductionBrief
    provider: Provider
    stage: Stage = Stage.BRIEF_INTERPRETATION
    segment: int | None = None
    instructions: str | None = None
    world: dict[str, Any] | None = None  # the project's world document, if the job has one
    world_version: int | None = None
    outputs: dict[Stage, dict[str, Any]] = field(default_factory=dict)
    segments: dict[Stage, dict[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)

    def output_of(self, stage: Stage) -> dict[str, Any]:
        return self.outputs[stage]

    def world_document(self, version: int) -> dict[str, Any]:
        if self.world is None or version != self.world_version:
            raise KeyError(f"no world version {version} in memory")
        return json.loads(json.dumps(self.world))

    def segment_output(self, stage: Stage, index: int) -> dict[str, Any] | None:
        return self.segments.get(stage, {}).get(index)

    def segment_outputs(self, stage: Stage) -> list[dict[str, Any]]:
        found = self.segments.get(stage, {})
        return [found[i] for i in sorted(found)]

    def complete(
        self,
        role: ModelRole,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        model = get_settings().model_for(role.value, self.stage.value)
        completion = self.provider.complete(
            messages, model=model, max_tokens=max_tokens, temperature=temperature, json_schema=json_schema
        )
        self.calls.append(
            CallRecord(
                self.stage,
                self.segment,
                role,
                (json_schema or {}).get("name"),
                completion.usage.prompt_tokens,
                completion.usage.completion_tokens,
                completion.finish_reason,
            )
        )
        return completion

    def forget(self, completion: Completion) -> None:
        """Nothing is journaled in memory: every call reaches the provider."""

    def store(self, stage: Stage, output: dict[str, Any], index: int | None = None) -> None:
        stored = json.loads(json.dumps(output))
        if index is None:
            self.outputs[stage] = stored
        else:
            self.segments.setdefault(stage, {})[index] = stored

    def calls_per_stage(self) -> Counter[Stage]:
        return Counter(c.stage for c in self.calls)


def run_pipeline(
    brief: ProductionBrief, *, job_id: str = "job-1", provider: Provider | None = None,
    world: dict[str, Any] | None = None, world_version: int = 1,
) -> tuple[MemoryContext, AssembledNarrative]:
    """All ten stages in order; Map stages item by item (sequential), then their finalize (stage 8's Map reads
    only drafts, so running it after stage 7 gives what the state machine's Parallel state gives). `world` is the
    project's world document (as `GET /projects/{id}/world` returns it), read as version `world_version`."""

    from narraforge.pipeline.stages import STAGES
    from narraforge.pipeline.stages.output_processing import assemble

    ctx = MemoryContext(job_id=job_id, brief=brief, provider=provider or OfflineEngine(job_id), world=world,
                        world_version=world_version if world is not None else None)
    narrative: AssembledNarrative | None = None
    for stage, spec in STAGES.items():
        ctx.stage, ctx.segment = stage, None
        if stage is Stage.OUTPUT_PROCESSING:
            narrative = assemble(ctx)
            ctx.store(stage, {"title": narrative.title, "word_count": narrative.word_count})
        elif spec.is_map:
            assert spec.run_segment is not None and spec.finalize is not None
            for index in range(map_items(stage, len(ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]))):
                ctx.segment = index
                ctx.store(stage, spec.run_segment(ctx, index), index)
            ctx.segment = None
            ctx.store(stage, spec.finalize(ctx))
        else:
            assert spec.run is not None
            ctx.store(stage, spec.run(ctx))
    assert narrative is not None
    return ctx, narrative
