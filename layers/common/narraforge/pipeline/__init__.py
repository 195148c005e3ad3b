"""The ten-stage pipeline: stage contract, stage registry, stages, prompts and metrics."""
