"""The local stack (DESIGN §4): moto for AWS, the real handlers, an API Gateway emulator. Dev only."""
