"""The notifier function: delivers price alerts and account mails (SQS → SES and webhooks)."""
