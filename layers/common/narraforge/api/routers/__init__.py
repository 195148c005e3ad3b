"""One router per domain; each function's app includes its own, the docs include them all."""
