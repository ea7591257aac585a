"""The README walk-through is a test: the commands of "Try it", "Accounts" and "Tracking prices" run in
their order against a fresh `make dev` stack, and each output is compared with the one the README shows.

A reader's substitutions are made as the README asks: `localhost:8080`/`:8081` become the stack's ports,
`TOKEN=eyJ...` takes the access token printed above, `"refresh_token": "..."` the refresh token,
`<tracker-id>` and `<alert-id>` the last ones printed, `<verification-token>` the token of the
verification mail's link and `<unsubscribe-url>` the price mail's List-Unsubscribe address; and
`$(date -d '+N days' +%F)` is the date N days after the day the walk began, so that midnight passing
during it changes nothing. Shown outputs allow for what changes from run to run: `"..."` is any value,
`"eyJ..."` any string starting so, a price any amount in that currency, `[...]` any list, and `...` at
the end of an object or a list means more keys or items. The schedule is off
(FAREWATCH_POLL_INTERVAL_SECONDS=0) so that the tracker's version is the one the README shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, DevStack, developer_environment

pytestmark = pytest.mark.e2e

SECTIONS = ("## Try it", "## Accounts", "## Tracking prices")
MORE = "__more__"
PRICE = re.compile(r"^\d+\.\d\d( [A-Z]{3})?$")
DAYS_AHEAD = re.compile(r"\$\(date -d '\+(\d+) days?' \+%F\)")


def walkthrough() -> list[tuple[str, list[str]]]:
    """(command, the output lines the README shows after it), in README order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    steps: list[tuple[str, list[str]]] = []
    for heading in SECTIONS:
        section = readme.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
            steps.append(("", []))  # a new block: nothing shown yet
            for line in block.replace("\\\n", " ").splitlines():
                if line.startswith("# ") and steps and steps[-1][0] and not line.startswith("# ("):
                    steps[-1][1].append(line[2:])
                elif line.strip() and not line.startswith("#"):
                    steps.append((line.strip(), []))
                else:
                    steps.append(("", []))  # a blank or a prose line ends the output shown
    return [step for step in steps if step[0]]


def expected_value(shown: str) -> Any:
    text = shown.replace("[...]", f'["{MORE}"]')
    text = re.sub(r",\s*\.\.\.\s*(?=[,}])", f', "{MORE}": true', text)  # more keys (objects)
    text = re.sub(r",\s*\.\.\.\s*(?=])", f', "{MORE}"', text)  # more items (lists)
    return json.loads(text)


def matches(shown: Any, actual: Any, where: str = "") -> list[str]:
    """What differs between a shown value and the actual one, allowing for what changes run to run."""
    if shown == "...":
        return []
    if isinstance(shown, str) and isinstance(actual, str):
        if shown.endswith("...") and actual.startswith(shown[:-3]):
            return []
        if PRICE.match(shown) and PRICE.match(actual) and shown.split()[1:] == actual.split()[1:]:
            return []  # another amount in the same currency
    if isinstance(shown, dict) and isinstance(actual, dict):
        keys = [key for key in shown if key != MORE]
        problems = [f"{where}.{key} is missing" for key in keys if key not in actual]
        if MORE not in shown and set(actual) - set(keys):
            problems.append(f"{where} has keys the README does not show: {sorted(set(actual) - set(keys))}")
        return problems + [
            p for key in keys if key in actual for p in matches(shown[key], actual[key], f"{where}.{key}")
        ]
    if isinstance(shown, list) and isinstance(actual, list):
        if shown == [MORE]:
            return []
        items = [item for item in shown if item != MORE]
        if len(actual) < len(items) or (MORE not in shown and len(actual) != len(items)):
            return [f"{where} has {len(actual)} items, the README shows {len(items)}"]
        return [
            p for index, item in enumerate(items) for p in matches(item, actual[index], f"{where}[{index}]")
        ]
    return [] if shown == actual else [f"{where}: README shows {shown!r}, the stack answered {actual!r}"]


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    folder = tmp_path_factory.mktemp("walkthrough")
    stack = DevStack(
        developer_environment(folder / "data", FAREWATCH_POLL_INTERVAL_SECONDS="0"), folder / "stack.log"
    ).start()
    yield stack
    assert "Traceback" not in stack.stop()


def test_the_readme_walkthrough_works_as_written(fresh_stack: DevStack) -> None:
    today = dt.date.today()  # `date -d '+N days'` is read once: midnight may pass during the walk

    def day_ahead(found: re.Match[str]) -> str:
        return (today + dt.timedelta(days=int(found.group(1)))).isoformat()

    steps = walkthrough()
    assert len(steps) >= 25, "the README's walk-through sections were not found"
    seen: dict[str, str] = {}
    variables: dict[str, str] = {}
    for command, shown in steps:
        run = command.replace("localhost:8080", fresh_stack.api.removeprefix("http://"))
        run = run.replace("localhost:8081", fresh_stack.sim.removeprefix("http://"))
        run = DAYS_AHEAD.sub(day_ahead, run)
        if run.startswith("TOKEN=eyJ..."):
            variables["TOKEN"] = seen["access_token"]
            continue
        for placeholder, key in (
            ("<tracker-id>", "tracker"),
            ("<alert-id>", "alert"),
            ("<verification-token>", "verification_token"),
            ("<unsubscribe-url>", "unsubscribe_url"),
        ):
            run = run.replace(placeholder, seen.get(key, placeholder))
        run = run.replace(
            '{"refresh_token": "..."}', json.dumps({"refresh_token": seen.get("refresh_token", "")})
        )
        result = subprocess.run(
            ["bash", "-c", run],
            cwd=ROOT,
            env={**fresh_stack.env, **variables},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        output = result.stdout.strip()
        try:
            answer = json.loads(output)
        except ValueError:
            answer = output
        remember(answer, seen)
        if shown:
            text = " ".join(line.strip() for line in shown)
            expected = expected_value(text) if text.startswith(("{", "[")) else text
            problems = matches(expected, answer)
            assert not problems, f"{command}\nREADME: {text}\nstack:  {output}\n" + "\n".join(problems)


def remember(answer: Any, seen: dict[str, str]) -> None:
    """The values a reader copies from one output into a later command."""
    data = answer.get("data") if isinstance(answer, dict) else None
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue
        for key in ("access_token", "refresh_token"):
            if key in item:
                seen[key] = item[key]
        text, headers = item.get("text"), item.get("headers")
        if isinstance(text, str) and (token := re.search(r"/verify-email\?token=([\w-]+)", text)):
            seen.setdefault("verification_token", token.group(1))
        if isinstance(headers, dict) and "List-Unsubscribe" in headers:
            seen.setdefault("unsubscribe_url", str(headers["List-Unsubscribe"]).strip("<>"))
        identifier = str(item.get("id", ""))
        if identifier.startswith("trk_"):
            seen["tracker"] = identifier
        elif "tracked_flight_id" in item:
            seen["alert"] = identifier


def test_the_walkthrough_parser_reads_what_the_readme_shows() -> None:
    shown = expected_value(
        '{"data": {"id": "trk_...", "price": "287.40 USD", "tags": [...], ...}, "list": [1, ...]}'
    )

    assert not matches(
        shown, {"data": {"id": "trk_1", "price": "9.99 USD", "tags": [3], "x": 1}, "list": [1, 2]}
    )
    assert matches(shown, {"data": {"id": "alr_1", "price": "9.99 USD", "tags": []}, "list": [1]})
    assert matches(shown, {"data": {"id": "trk_1", "price": "9.99 EUR", "tags": []}, "list": [1]})
    assert matches(expected_value('{"a": 1}'), {"a": 1, "b": 2})  # no "..." shown: no extra keys
    assert Path(ROOT / "README.md").exists()
