"""LLM providers behind one interface (README, "Using a real model"): the OpenAI SDK, and the offline engine."""
