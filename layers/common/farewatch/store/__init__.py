"""Data access: the PynamoDB models and the only code that talks to DynamoDB."""
