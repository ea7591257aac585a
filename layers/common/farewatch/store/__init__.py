"""Data access: the PynamoDB models and the only code that talks to DynamoDB.

PynamoDB gives each connection (one per model class, one per store that runs transactions) a botocore
session of its own; here every connection takes its thread's shared session instead (farewatch.aws),
so a cold container parses the DynamoDB model once, not once for each table it touches (~150 ms each).
"""

from __future__ import annotations

import pynamodb.connection.base

from farewatch.aws import thread_session

pynamodb.connection.base.get_session = thread_session
