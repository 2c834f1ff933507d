"""Releases: tools/release.py on a copy of the repository, and the version's other homes."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("release", ROOT / "tools" / "release.py")
release = importlib.util.module_from_spec(spec)
spec.loader.exec_module(release)


def next_minor(version):
    major, minor, _ = (int(part) for part in version.split("."))
    return f"{major}.{minor + 1}.0"


NEW = next_minor(VERSION)
FILES = ["pyproject.toml", "attncourse/__init__.py", "CITATION.cff", "CHANGELOG.md"]


@pytest.fixture
def repo(tmp_path):
    """A copy of the files a release touches."""
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    return tmp_path


def snapshot(root):
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def add_section(root, version, released="2027-01-15"):
    """What the maintainer does first: the Unreleased entries move to a dated section."""
    path = root / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## [Unreleased]\n", f"## [Unreleased]\n\n## [{version}] - {released}\n", 1),
                    encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_round_trip_through_the_release_json_layout(path):
    text = path.read_text(encoding="utf-8")
    assert release.dump_notebook(json.loads(text)) == text


def test_a_release_bumps_every_home_of_the_version(repo, capsys):
    add_section(repo, NEW)
    before = snapshot(repo)
    assert release.main([NEW, "--root", str(repo)]) == 0
    out = capsys.readouterr().out

    assert f'version = "{NEW}"' in (repo / "pyproject.toml").read_text()
    assert f'__version__ = "{NEW}"' in (repo / "attncourse" / "__init__.py").read_text()
    citation = yaml.safe_load((repo / "CITATION.cff").read_text())
    assert citation["version"] == NEW and str(citation["date-released"]) == "2027-01-15"

    for path in sorted((repo / "notebooks").glob("*.ipynb")):
        old_text, new_text = before[path].decode("utf-8"), path.read_text(encoding="utf-8")
        changed = [(a, b) for a, b in zip(old_text.splitlines(), new_text.splitlines()) if a != b]
        assert len(old_text.splitlines()) == len(new_text.splitlines())
        assert len(changed) == 1, f"{path.name}: only the setup line changes"
        old_line, new_line = changed[0]
        assert f"@v{VERSION}" in old_line and f"@v{NEW}" in new_line
        assert old_line.replace(f"@v{VERSION}", f"@v{NEW}") == new_line

    links = [line for line in (repo / "CHANGELOG.md").read_text().splitlines() if re.match(r"\[[^\]]+\]: ", line)]
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert links[:2] == [f"[Unreleased]: {repository}/compare/v{NEW}...HEAD",
                         f"[{NEW}]: {repository}/compare/v{VERSION}...v{NEW}"]

    assert f"git tag -a v{NEW}" in out and f"git push origin main v{NEW}" in out
    assert "git add CHANGELOG.md CITATION.cff attncourse/__init__.py notebooks/*.ipynb pyproject.toml" in out


def test_a_release_refuses_without_a_changelog_section(repo, capsys):
    before = snapshot(repo)
    assert release.main([NEW, "--root", str(repo)]) == 1
    assert f"CHANGELOG.md has no section for {NEW}" in capsys.readouterr().err
    assert snapshot(repo) == before, "nothing is written when the release is refused"


def test_a_release_refuses_an_undated_section(repo, capsys):
    path = repo / "CHANGELOG.md"
    path.write_text(path.read_text().replace("## [Unreleased]\n", f"## [Unreleased]\n\n## [{NEW}]\n", 1))
    before = snapshot(repo)
    assert release.main([NEW, "--root", str(repo)]) == 1
    assert "release date" in capsys.readouterr().err
    assert snapshot(repo) == before


@pytest.mark.parametrize("version", [VERSION, "0.0.1", "1.0", "v1.0.0", "1.0.0rc1"])
def test_a_release_refuses_a_version_that_is_not_above_or_not_plain(repo, version, capsys):
    add_section(repo, version)
    before = snapshot(repo)
    assert release.main([version, "--root", str(repo)]) == 1
    assert capsys.readouterr().err.startswith("release: ")
    assert snapshot(repo) == before


def test_a_release_refuses_a_notebook_without_its_setup_pin(repo, capsys):
    add_section(repo, NEW)
    path = sorted((repo / "notebooks").glob("*.ipynb"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace(f"@v{VERSION}", "@main"), encoding="utf-8")
    before = snapshot(repo)
    assert release.main([NEW, "--root", str(repo)]) == 1
    assert path.name in capsys.readouterr().err
    assert snapshot(repo) == before


def test_the_command_line_runs_on_a_root_directory(repo):
    add_section(repo, NEW)
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "release.py"), NEW, "--root", str(repo)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f'version = "{NEW}"' in (repo / "pyproject.toml").read_text()
    assert f'version = "{VERSION}"' in (ROOT / "pyproject.toml").read_text(), "the real repository is untouched"


def test_the_changelog_has_a_section_for_the_current_version():
    sections = release.changelog_sections((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert "Unreleased" in sections
    assert VERSION in sections, f"CHANGELOG.md needs a `## [{VERSION}] - YYYY-MM-DD` section"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", sections[VERSION] or ""), "the section carries its release date"


def test_the_citation_file_cites_the_current_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == VERSION
    sections = release.changelog_sections((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert str(citation["date-released"]) == sections[VERSION], "the release date is the changelog's"
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert citation["repository-code"] == config["repository"]["url"]
    assert sorted(citation["license"]) == ["CC-BY-4.0", "MIT"]
    assert citation["authors"] == [{"name": "The attncourse authors"}]


def test_the_licences_are_stated_where_readers_look():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "https://creativecommons.org/licenses/by/4.0/" in (ROOT / "LICENSE-CONTENT.md").read_text()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "https://creativecommons.org/licenses/by/4.0/" in config["html"]["extra_footer"]
    license_section = (ROOT / "README.md").read_text(encoding="utf-8").split("## License", 1)[1]
    assert "LICENSE-CONTENT.md" in license_section and "CC BY 4.0" in license_section
