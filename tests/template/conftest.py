"""The template check runs in .venv-sam, beside the SAM CLI whose translator it uses: `make template-check`
(part of `make test`). The project's own venv has no SAM CLI, so it leaves these tests to that target."""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("samcli") else ["test_*.py"]
