"""scripts/lesson_results.py records each run with commit, machine, load, wall time and seeds,
and renders RESULTS.md from the records."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("lesson_results",
                                                  REPO / "scripts" / "lesson_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_smoke_run_is_recorded_and_rendered(tmp_path):
    script = load_script()
    out = tmp_path / "docs" / "RESULTS.md"
    code = script.main(["--smoke", "--lessons", "22", "--work", str(tmp_path / "work"),
                        "--out", str(out)])
    assert code == 0
    record = json.loads((tmp_path / "work" / "22_ensembles_and_swa.json").read_text())
    assert record["commit"] and record["machine"] and record["wall_seconds"] > 0
    assert record["seeds"] == [0, 1, 2, 100, 101, 102, 200, 201, 202]  # 3 ensembles of 3
    assert len(record["load_before"]) == 3
    assert any(line.startswith("->") for line in record["results"])  # the verdicts
    text = out.read_text()
    assert "smoke: not a result" in text and record["commit"] in text
    assert "(results/22_ensembles_and_swa/swa_smoke.png)" in text
    assert (out.parent / "results" / "22_ensembles_and_swa" / "swa_smoke.png").is_file()
    # regenerating from the records alone gives the same page
    again = tmp_path / "again" / "RESULTS.md"
    again.parent.mkdir()
    script.main(["--from-logs", str(tmp_path / "work"), "--out", str(again)])
    assert again.read_text() == text


def test_smoke_runs_never_overwrite_the_real_results(capsys):
    script = load_script()
    try:
        script.main(["--smoke", "--lessons", "00"])
    except SystemExit as stop:
        assert stop.code == 2
    else:
        raise AssertionError("--smoke without --out must be refused")


def test_lesson_pages_link_the_full_run_figures_once(tmp_path):
    script = load_script()
    pages = tmp_path / "docs"
    (pages / "results" / "15_resnet").mkdir(parents=True)
    page = pages / "15_resnet.md"
    page.write_text("# 15\n\n## Figures\n\n| file | what |\n|---|---|\n\n## Try next\n\ntext\n")
    record = {"lesson": "15_resnet", "commit": "abc1234", "seeds": [0, 1, 2],
              "wall_seconds": 373.0, "smoke": False}
    links = {"15_resnet": ["results/15_resnet/a.png", "results/15_resnet/b.png"]}
    assert script.link_lesson_pages([record], links, pages) == [str(page)]
    text = page.read_text()
    assert "- [a.png](results/15_resnet/a.png)" in text and "commit abc1234" in text
    # the block sits inside the Figures section, before the next heading
    assert text.index("### Figures of the recorded full run") < text.index("## Try next")
    # a second run replaces the block instead of adding another
    record["commit"] = "def5678"
    script.link_lesson_pages([record], {"15_resnet": ["results/15_resnet/c.png"]}, pages)
    again = page.read_text()
    assert again.count(script.PAGE_BEGIN) == 1 and "commit def5678" in again
    assert "a.png" not in again and "c.png" in again and again.endswith("text\n")
    # smoke runs are never linked from a page
    record["smoke"] = True
    script.link_lesson_pages([record], {"15_resnet": ["results/15_resnet/x_smoke.png"]}, pages)
    assert "x_smoke" not in page.read_text()


def test_every_recorded_figure_is_linked_from_its_lesson_page():
    docs = REPO / "docs" / "lessons"
    for folder in sorted((docs / "results").iterdir()):
        if not folder.is_dir():
            continue
        page = (docs / f"{folder.name}.md").read_text()
        for figure in sorted(folder.glob("*.png")):
            assert f"(results/{folder.name}/{figure.name})" in page, (folder.name, figure.name)
    for page in sorted(docs.glob("*.md")):
        for link in re.findall(r"\]\((results/[^)]+)\)", page.read_text()):
            assert (docs / link).is_file(), (page.name, link)
