"""The Farewatch local stack: template.yaml run on a laptop with embedded AWS, no Docker, no AWS account.

`python -m farewatch_local` (what `make dev` runs) starts it; `LocalStack` does the same in-process.
"""
