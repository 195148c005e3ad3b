"""The local stack (README, "How the local stack works"): moto for AWS, the real handlers, an API Gateway
emulator. Dev only."""
