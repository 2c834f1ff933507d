"""The GitHub workflows run the README's commands, and publish what the README says they do."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow):
    # YAML 1.1 reads the key `on` as the boolean true.
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict.fromkeys(on) if isinstance(on, list) else on


def steps(workflow, job=None):
    for name, body in workflow["jobs"].items():
        if job is None or name == job:
            yield from body.get("steps", [])


def scripts(workflow, job=None):
    return [step["run"] for step in steps(workflow, job) if "run" in step]


def uses(workflow, job=None):
    return [step["uses"].split("@")[0] for step in steps(workflow, job) if "uses" in step]


def make_targets_run(script):
    """The targets of every `make` command in a shell script (variables and options left out)."""
    targets = []
    for line in script.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # a quote that a later line closes
            words = line.split("#")[0].split()
        for i, word in enumerate(words):
            if word != "make":
                continue
            for arg in words[i + 1:]:
                if arg in ("&&", "||", ";", "|"):
                    break
                if not arg.startswith("-") and "=" not in arg:
                    targets.append(arg)
    return targets


def makefile_targets(text):
    targets = set()
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_][\w.\- ]*?)\s*:(?!=)", line)
        if match:
            targets.update(match.group(1).split())
    return targets


def readme_names(target, readme=README):
    return re.search(rf"\bmake {re.escape(target)}(?![\w-])", readme) is not None


def problems_with_make_commands(workflows, makefile, readme):
    """Every `make X` a workflow runs must be a Makefile target and be named in the README."""
    targets = makefile_targets(makefile)
    problems = []
    for name, workflow in workflows.items():
        for script in scripts(workflow):
            for target in make_targets_run(script):
                if target not in targets:
                    problems.append(f"{name} runs `make {target}`, which the Makefile does not define")
                if not readme_names(target, readme):
                    problems.append(f"{name} runs `make {target}`, which README.md does not name")
    return problems


TEST = load("test.yml")
PUBLISH = load("publish.yml")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_make_commands_are_parsed_from_scripts():
    assert make_targets_run("make test") == ["test"]
    assert make_targets_run("make colab-parity COLAB_PYTHON=python3.13") == ["colab-parity"]
    assert make_targets_run("cd x && make -s book V=1 && echo done  # make nothing") == ["book"]
    assert make_targets_run("echo make-believe; cmake .") == []


def test_makefile_targets_are_read_without_variables():
    targets = makefile_targets("A := 1\nB ?= 2\nbook: $(X)\n\tmake x\nlint-workflows test: a\n.PHONY: book\n")
    assert {"book", "lint-workflows", "test"} <= targets and "A" not in targets and "B" not in targets


def test_the_make_check_finds_a_target_that_is_missing_or_unnamed():
    workflow = {"jobs": {"j": {"steps": [{"run": "make test"}, {"run": "make nowhere"}]}}}
    problems = problems_with_make_commands({"w.yml": workflow}, "test:\n", "Run `make test`.")
    assert problems == ["w.yml runs `make nowhere`, which the Makefile does not define",
                        "w.yml runs `make nowhere`, which README.md does not name"]
    assert not readme_names("colab", "only `make colab-parity` here")


def test_every_make_command_of_a_workflow_is_a_target_named_in_the_readme():
    workflows = {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}
    assert {"test.yml", "publish.yml"} <= set(workflows)
    assert problems_with_make_commands(workflows, MAKEFILE, README) == []


def test_the_test_workflow_runs_make_test_on_push_and_pull_request():
    on = triggers(TEST)
    assert "push" in on and "pull_request" in on
    # No branch filter on pushes: every branch is tested.
    assert not (on["push"] or {}).get("branches")
    assert "test" in [t for script in scripts(TEST) for t in make_targets_run(script)]


def test_the_test_workflow_runs_colab_parity_with_colabs_python():
    job = next((name for name in TEST["jobs"] if any("colab-parity" in s for s in scripts(TEST, name))), None)
    assert job, "no job of test.yml runs make colab-parity"
    run = next(s for s in scripts(TEST, job) if "colab-parity" in s)
    assert "COLAB_PYTHON=python3.13" in run
    setup = next(s for s in steps(TEST, job) if s.get("uses", "").startswith("actions/setup-python@"))
    assert "3.13" in str(setup["with"]["python-version"]).split()


def test_the_test_job_uses_python_311_with_a_pip_cache():
    setup = next(s for s in steps(TEST, "test") if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == "3.11" and setup["with"]["cache"] == "pip"


def test_the_publish_workflow_runs_on_main_on_tags_and_by_hand():
    on = triggers(PUBLISH)
    assert on["push"]["branches"] == ["main"] and on["push"]["tags"] == ["v*"]
    assert "workflow_dispatch" in on


def test_the_publish_workflow_builds_the_book_and_the_colab_copies():
    targets = [t for script in scripts(PUBLISH) for t in make_targets_run(script)]
    assert "book" in targets and "colab" in targets
    assert targets.index("book") < targets.index("colab")
    assert any("_build/colab/notebooks" in s and "_build/html/colab" in s for s in scripts(PUBLISH)), (
        "the Colab copies go inside the site, under _build/html/colab/")


def test_the_publish_workflow_caches_the_executed_notebooks():
    cache = next((s for s in steps(PUBLISH) if s.get("uses", "").startswith("actions/cache@")), None)
    assert cache, "publish.yml restores no cache"
    assert "_build/.jupyter_cache" in cache["with"]["path"].split()
    key = cache["with"]["key"]
    assert "notebooks/*.ipynb" in key and "attncourse/" in key
    assert cache["with"]["restore-keys"].strip(), "restore keys let a changed notebook reuse the others"
    # jupyter-cache must be where _config.yml puts it.
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["cache"] == "_build/.jupyter_cache"


def test_the_publish_workflow_deploys_github_pages():
    assert "actions/upload-pages-artifact" in uses(PUBLISH)
    job = next((name for name in PUBLISH["jobs"] if "actions/deploy-pages" in uses(PUBLISH, name)), None)
    assert job, "no job of publish.yml deploys GitHub Pages"
    body = PUBLISH["jobs"][job]
    assert body["permissions"] == {"pages": "write", "id-token": "write"}
    assert body["environment"]["name"] == "github-pages"
    upload = next(s for s in steps(PUBLISH) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"


def test_the_publish_workflow_force_pushes_the_colab_branch():
    job = next((name for name in PUBLISH["jobs"] if any("git push" in s for s in scripts(PUBLISH, name))), None)
    assert job, "no job of publish.yml pushes a branch"
    assert PUBLISH["jobs"][job]["permissions"] == {"contents": "write"}
    script = "\n".join(scripts(PUBLISH, job))
    assert "git init" in script, "a fresh repository: the branch's commit is an orphan"
    assert re.search(r"git push --force\b.*HEAD:refs/heads/colab", script)
    assert "git add notebooks" in script, "Colab opens the copies at notebooks/<name>.ipynb on the branch"


def test_the_publish_workflow_keeps_the_claims_ledger():
    paths = [s["with"]["path"] for s in steps(PUBLISH) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "_build/claims.jsonl" in paths


@pytest.mark.parametrize("name", ["test.yml", "publish.yml"])
def test_workflows_have_least_permissions_a_concurrency_group_and_timeouts(name):
    workflow = load(name)
    assert "permissions" in workflow and workflow["permissions"] in ({}, {"contents": "read"})
    assert workflow["concurrency"]["group"]
    for job, body in workflow["jobs"].items():
        assert body.get("timeout-minutes"), f"{name}: job {job} has no timeout-minutes"
