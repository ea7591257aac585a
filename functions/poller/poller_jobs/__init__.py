"""The poller's handlers: the scheduled dispatcher and the SQS worker (logic in farewatch.poller)."""
