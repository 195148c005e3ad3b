"""The rules. Framework-free: services take and return plain values and pydantic models."""
