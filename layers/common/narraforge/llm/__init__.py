"""LLM providers behind one interface (DESIGN §8): the OpenAI SDK, and the offline engine."""
