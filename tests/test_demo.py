"""Every kind's live demo in a real browser, and its Space run from a copied folder.

Per kind (a row of the catalogue; heavy kinds where MLSCAFFOLD_FULL_MATRIX=1): generate,
train on the sample in an environment built from the project's own dependencies (the demo
extra included), start `python -m <pkg> demo` on a free 127.0.0.1 port, open it in headless
Chromium (Selenium with the system's chromedriver: Debian's chromium-driver; nothing is
downloaded), click the first example and Predict, and read the answer from the page: it must
be what the API's handler answers for that example. The app's output names `make demo
ARGS=--share` for a public link (not Gradio's `share=True`, which `make demo` does not take).
The page must carry the sample banner, log no console error and request nothing outside
127.0.0.1 (no CDN: it works offline). A screenshot per kind goes to $MLSCAFFOLD_SCREENSHOTS
(default: the test's tmp folder). Then `make space`'s folder, copied elsewhere, runs its
app.py and answers a gradio_client call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import kind_params, new_project
from project_envs import env_python
from served import free_port, test_overrides

pytestmark = pytest.mark.slow

PACKAGE = "generated"
# the first example of the demo's first tab (a table cell, or a button for one input)
FIRST_EXAMPLE = "#examples-0 tbody tr td, #examples-0 button"
# what the first tab's inputs hold (values, images): an example's values arrive from the
# server after its click, so Predict waits for this to change
INPUTS = """const fields = [...document.querySelectorAll('[id^="input-0-"]')];
return JSON.stringify(fields.map((field) => [
    [...field.querySelectorAll("img")].map((image) => image.src).join(" "),
    ...[...field.querySelectorAll("textarea, input")]
        .filter((element) => element.type !== "file").map((element) => element.value),
]));"""
# how wide the first tab's input images are drawn, in CSS pixels (an <img> box may be wide
# while object-fit draws its 28 pixels as 28)
IMAGE_WIDTHS = """return [...document.querySelectorAll('[id^="input-0-"] img')].map((image) => {
    const box = image.getBoundingClientRect();
    const fit = getComputedStyle(image).objectFit;
    const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
    if (fit === "fill" || fit === "cover") return box.width;
    const drawn = fit === "none" ? 1 : fit === "scale-down" ? Math.min(1, scale) : scale;
    return image.naturalWidth * drawn;
});"""
# What the page's first tab must show for its first example: the API's own handler on it
# (printed with the example's values, as JSON)
EXPECTED = """
import json
from pathlib import Path
from typing import Any

from generated import steps
from generated.plumbing.paths import Paths
from generated.plumbing.pipeline import settings

paths = Paths(Path.cwd())
config = settings(paths)
model = steps.SERVICE.load(paths, config)
tab = steps.DEMO.tabs[0]
route = next(route for route in steps.SERVICE.routes if route.path == tab.route)
example = tab.examples(paths, model)[0]
request = route.request.model_validate(tab.request(model, *example))
print(json.dumps([tab.summary(route.handle(model, request, config)), tab.route, example]))
"""
# The same example through gradio_client from the app at argv[1]: the summary it shows
CLIENT = """
import json
import sys
from pathlib import Path

from gradio_client import Client, handle_file

route, example = json.loads(sys.argv[2])
values = [handle_file(v) if isinstance(v, str) and Path(v).is_file() else v for v in example]
api_name = "/" + route.strip("/").replace("/", "_")
print(Client(sys.argv[1], verbose=False).predict(*values, api_name=api_name)[-1])
"""


def _holds(inputs: str, example: list[Any]) -> bool:
    """Whether the inputs (INPUTS' JSON) already hold the example's values: a form that starts
    from its first example (kaggle-entry's) does not change when that example is clicked."""
    fields = json.loads(inputs)
    return len(fields) == len(example) and all(
        ("" if value is None else str(value)) in field[1:]
        for field, value in zip(fields, example, strict=True)
    )


def _browser_or_skip() -> tuple[str, str]:
    pytest.importorskip("selenium", reason="selenium is in the test extra")
    driver = shutil.which("chromedriver")
    browser = next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
    )
    if not driver or not browser:
        pytest.skip("no headless browser: apt-get install chromium chromium-driver (.ci/run does)")
    return browser, driver


def _run(args: list[str], cwd: Path, timeout: int = 600) -> str:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _serving(
    args: list[str],
    cwd: Path,
    port: int,
    env: dict[str, str],
    host: str = "127.0.0.1",
    stops_cleanly: bool = False,
) -> Iterator[str]:
    """The app started by `args`, once it answers on http://host:port/; stopped after with
    SIGTERM (what `docker stop` sends), which `stops_cleanly` wants answered by exit 0."""
    log = cwd.parent / f"server-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=out)
    url = f"http://{host}:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the app did not start:\n" + log.read_text()[-3000:]
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
    assert code == 0 or not stops_cleanly, f"exit {code} on SIGTERM:\n" + log.read_text()[-3000:]


def _chromium(browser: str, driver: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1100")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def _requested(driver: Any) -> set[str]:
    """Every URL the page asked for (HTTP and WebSocket), from Chromium's network log."""
    urls = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.add(params["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.add(params["url"])
    return urls


@pytest.mark.parametrize("kind", kind_params())
def test_demo_in_a_real_browser_and_its_space(tmp_path: Path, kind: str) -> None:
    browser, driver_path = _browser_or_skip()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    screens = Path(os.environ.get("MLSCAFFOLD_SCREENSHOTS") or tmp_path / "screens")
    screens.mkdir(parents=True, exist_ok=True)
    root = new_project(tmp_path / "project", kind, package_name=PACKAGE)
    python = str(env_python(root))
    trained = time.monotonic()
    overrides = test_overrides(root)
    _run([python, "-m", PACKAGE, "all", "--sample", *overrides], root)
    expected, route, example = json.loads(_run([python, "-c", EXPECTED], root))
    assert expected
    trained = time.monotonic() - trained

    started = time.monotonic()
    port = free_port()
    demo = [python, "-m", PACKAGE, "demo", "--port", str(port), *overrides]
    demo_log = tmp_path / f"server-{port}.log"  # where _serving writes the app's output
    env = {"PYTHONPATH": str(root / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}
    driver = _chromium(browser, driver_path)
    try:
        for url in _serving(demo, root, port, env, stops_cleanly=True):
            driver.get(url)
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, FIRST_EXAMPLE))
            banner = driver.find_element(By.ID, "sample-banner").text
            assert "Trained on the" in banner, banner
            assert "baseline" in driver.find_element(By.ID, "model-info").text
            before = driver.execute_script(INPUTS)
            driver.find_element(By.CSS_SELECTOR, FIRST_EXAMPLE).click()
            wait.until(
                lambda d, before=before: (
                    d.execute_script(INPUTS) != before or _holds(before, example)
                )
            )
            driver.find_element(By.ID, "submit-0").click()
            wait.until(lambda d: d.find_element(By.ID, "summary-0").text.strip())
            shown = driver.find_element(By.ID, "summary-0").text.strip()
            # an image input draws a small image (28x28 Fashion-MNIST) large enough to see
            widths = driver.execute_script(IMAGE_WIDTHS)
            assert all(width >= 200 for width in widths), widths
            driver.save_screenshot(str(screens / f"{kind}.png"))
            assert shown == expected, (shown, expected)
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors
            outside = {
                u for u in _requested(driver)
                if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                and urlsplit(u).hostname != "127.0.0.1"
            }  # fmt: skip
            assert not outside, f"the page needs the internet: {sorted(outside)}"
    finally:
        driver.quit()
    # the public link as `make demo` takes it, not Gradio's "set share=True in launch()"
    said = demo_log.read_text(encoding="utf-8")
    assert "make demo ARGS=--share" in said and "share=True" not in said, said[-3000:]
    browser_seconds = time.monotonic() - started
    space_started = time.monotonic()

    # make space: the folder, copied elsewhere, runs as the Space does (python app.py)
    _run([python, "-m", PACKAGE, "space"], root)
    header = (root / "space" / "README.md").read_text(encoding="utf-8").split("---")[1]
    assert "\nsdk: gradio\n" in header and "\napp_file: app.py\n" in header, header
    copy = tmp_path / "elsewhere" / "space"
    shutil.copytree(root / "space", copy)
    port = free_port()
    # where Spaces says (GRADIO_SERVER_NAME; 0.0.0.0 there): another loopback address here
    env = {"GRADIO_SERVER_NAME": "127.0.0.2", "GRADIO_SERVER_PORT": str(port)}
    env["PYTHONPATH"] = ""  # nothing from the project: only the folder itself
    for url in _serving([python, "app.py"], copy, port, env, host="127.0.0.2"):
        answer = _run([python, "-c", CLIENT, url, json.dumps([route, example])], copy).strip()
        assert answer == expected, (answer, expected)
    seconds = f"train {trained:.1f} s, browser {browser_seconds:.1f} s"
    seconds += f", space {time.monotonic() - space_started:.1f} s"
    print(f"{kind}: {seconds}", file=sys.stderr)
