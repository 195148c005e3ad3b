"""Data access: PynamoDB models, key patterns, repositories and the S3 store."""
