"""The poller's handlers: the scheduled dispatcher and the SQS worker (see farewatch.tracking.poll_cycle)."""
