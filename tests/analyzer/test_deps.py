"""Dependency manifests: pip's requirements format, pyproject/Pipfile/setup, and what the build installs."""

from __future__ import annotations

import subprocess

import pytest

from analyzer import analyze
from analyzer.deps import (
    DEPENDENCY_FILE_NAMES,
    RequirementError,
    normalize,
    parse_pep508,
    parse_pipfile,
    parse_pyproject,
    parse_requirements,
    poetry_specifier,
    specifier_pinned_below,
    version_key,
)
from analyzer.project import Project

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def project_of(repo, files, app_root=".", platform=None):
    return Project(repo(files), app_root, platform)


# -- names and versions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Flask_SQLAlchemy", "flask-sqlalchemy"), ("zope.interface", "zope-interface"), ("A--B__c", "a-b-c")],
)
def test_it_normalises_names_like_pep_503(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("2.3rc1", "2.3"),
        ("2.3.dev1", "2.3a1"),
        ("2.3", "2.3.post1"),
        ("2.2.5", "2.3"),
        ("9.9", "1!0.1"),
        ("2.3a1", "2.3b1"),
    ],
)
def test_it_orders_versions_like_pep_440(lower, higher):
    assert version_key(lower) < version_key(higher)


def test_it_treats_trailing_zeros_as_equal():
    assert version_key("2.3") == version_key("2.3.0") == version_key("v2.3.0.0")
    assert version_key("latest") is None


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [
        ("==2.2.5", True),
        ("<2.3", True),
        ("<=2.2.99", True),
        ("~=2.2.0", True),
        ("==2.2.*", True),
        (">=2.0,<2.3", True),
        ("<=2.3", False),
        ("~=2.2", False),
        ("==2.*", False),
        (">=2.0", False),
        ("!=2.3.0", False),
        ("<2.3.1", False),
        ("==2.3.0", False),
        ("", False),
        (">=1.0,<2.3||>=3.0", False),
        ("<2||==2.2.1", True),
    ],
)
def test_it_tells_whether_a_specifier_stays_below_a_version(specifier, expected):
    assert specifier_pinned_below(specifier, "2.3") is expected


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^2.2", ">=2.2,<3"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~2.2", ">=2.2,<2.3"),
        ("~1", ">=1,<2"),
        ("2.2.5", "==2.2.5"),
        ("2.2.*", "==2.2.*"),
        ("*", ""),
        (">= 1.2, < 1.5", ">=1.2,<1.5"),
        ("^1.4 || ^2.0", ">=1.4,<2||>=2.0,<3"),
    ],
)
def test_it_converts_poetry_constraints(constraint, specifier):
    assert poetry_specifier(constraint) == specifier


# -- PEP 508 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "extras", "specifier", "marker", "url"),
    [
        ("Flask", "flask", (), "", None, None),
        ("flask >= 2.0 , < 3", "flask", (), ">=2.0,<3", None, None),
        ("flask (>=2.0)", "flask", (), ">=2.0", None, None),
        ("Flask[async, dotenv]==3.1.0", "flask", ("async", "dotenv"), "==3.1.0", None, None),
        ('gunicorn; sys_platform != "win32"', "gunicorn", (), "", 'sys_platform != "win32"', None),
        (
            "pkg @ https://example.com/pkg-1.0.tar.gz ; python_version < '3.12'",
            "pkg",
            (),
            "",
            "python_version < '3.12'",
            "https://example.com/pkg-1.0.tar.gz",
        ),
        (
            'numpy==2.1.3; python_version >= "3.10" and (platform_machine == \'x86_64\' or os_name == "nt")',
            "numpy",
            (),
            "==2.1.3",
            'python_version >= "3.10" and (platform_machine == \'x86_64\' or os_name == "nt")',
            None,
        ),
    ],
)
def test_it_parses_pep_508_requirements(text, name, extras, specifier, marker, url):
    parsed = parse_pep508(text)
    assert (parsed.name, parsed.extras, parsed.specifier, parsed.marker, parsed.url) == (
        name,
        extras,
        specifier,
        marker,
        url,
    )


@pytest.mark.parametrize(
    "text",
    [
        "flask 2.0",
        "flask==latest",
        "flask>=2.0,",
        "flask[async",
        'flask; python_versio < "3"',
        "flask; python_version <",
        "<<<<<<< HEAD",
        "Flask = '^2.0'",
    ],
)
def test_it_rejects_what_is_not_a_requirement(text):
    with pytest.raises(RequirementError):
        parse_pep508(text)


# -- requirements files -------------------------------------------------------------


def test_it_reads_a_requirements_file_the_way_pip_does():
    manifest = parse_requirements(
        "requirements/prod.txt",
        "# pinned with pip-compile\n"
        "-r base.txt\n"
        "--requirement=../shared/common.txt\n"
        "-cconstraints.txt\n"
        "-i https://pypi.org/simple\n"
        "--extra-index-url https://user:token@pkgs.acme.dev/simple\n"
        "--find-links ./wheels\n--no-binary :all:\n--only-binary psycopg2\n--pre\n--prefer-binary\n"
        "--trusted-host pkgs.acme.dev\n--require-hashes\n"
        "flask==3.1.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        "gunicorn==23.0.0  # the server\n"
        "-e git+https://github.com/acme/utils.git@v1#egg=acme_utils[extra]\n"
        "https://files.acme.dev/Internal_SDK-2.0-py3-none-any.whl\n"
        "requests@https://example.com/requests-2.32.0.tar.gz\n"
        "git+https://github.com/acme/nameless.git\n"
        "-e .[prod]\n"
        "./libs/shared\n",
    )
    assert manifest.problems == []
    assert [(i.kind, i.target, i.path) for i in manifest.includes] == [
        ("requirement", "base.txt", "requirements/base.txt"),
        ("requirement", "../shared/common.txt", "shared/common.txt"),
        ("constraint", "constraints.txt", "requirements/constraints.txt"),
    ]
    by_name = {req.name: req for req in manifest.requirements}
    assert set(by_name) == {"flask", "gunicorn", "acme-utils", "internal-sdk", "requests"}
    assert by_name["flask"].line == 14 and by_name["flask"].specifier == "==3.1.0"
    assert by_name["acme-utils"].editable and by_name["acme-utils"].extras == ("extra",)
    assert by_name["requests"].url == "https://example.com/requests-2.32.0.tar.gz"
    assert manifest.local_projects == [(22, ".", ("prod",)), (23, "./libs/shared", ())]


def test_it_keeps_a_hash_sign_inside_a_url_and_drops_comments():
    manifest = parse_requirements(
        "requirements.txt", "flask # comment\n# gunicorn\npkg @ https://x.dev/p.whl#sha256=1\n"
    )
    assert [req.name for req in manifest.requirements] == ["flask", "pkg"]
    assert manifest.requirements[1].url == "https://x.dev/p.whl#sha256=1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("<<<<<<< HEAD", "unresolved merge conflict marker"),
        ("=======", "unresolved merge conflict marker"),
        (">>>>>>> feature/login", "unresolved merge conflict marker"),
        ("pip install flask", "is a shell command"),
        ("python -m pip install gunicorn", "is a shell command"),
        ("Install these with pip before running", "is not a requirement, option or include"),
        ("flask==", "is not a valid requirement"),
        ("--process-dependency-links", "no requirements-file option `--process-dependency-links`"),
        ("-Z", "no requirements-file option `-Z`"),
        ("-r", "`-r` needs a value"),
        ("flask==3.1.0 --no-deps", "no per-requirement option `--no-deps`"),
    ],
)
def test_it_reports_lines_pip_cannot_read(line, expected):
    manifest = parse_requirements("requirements.txt", f"flask\n{line}\ngunicorn\n")
    assert [number for number, _ in manifest.problems] == [2]
    assert expected in manifest.problems[0][1]


def test_it_never_shows_credentials_of_a_bad_line():
    manifest = parse_requirements("requirements.txt", "git+https://user:s3cr3t@host/x.git flask\n")
    assert manifest.problems and "s3cr3t" not in manifest.problems[0][1]


def test_it_decodes_utf16_requirements_written_by_powershell(repo):
    content = b"\xff\xfe" + "Flask==3.1.0\r\ngunicorn==23.0.0\r\n".encode("utf-16-le")
    project = project_of(repo, {"requirements.txt": content, "app.py": APP})
    manifests = project.manifests
    assert manifests.declares("gunicorn") is not None
    assert manifests.installed[0].problems == []


def test_it_decodes_utf8_with_a_bom(repo):
    project = project_of(repo, {"requirements.txt": b"\xef\xbb\xbfflask\ngunicorn\n"})
    assert project.manifests.declares("flask") is not None


def test_it_reports_an_installed_file_that_is_not_text(repo):
    project = project_of(repo, {"requirements.txt": b"flask\n\xff\xfe\xfa gunicorn\n"})
    manifest = project.manifests.installed[0]
    assert manifest.problems and "cannot be read" in manifest.problems[0][1]


# -- what the build installs: Railpack -------------------------------------------------


def test_it_follows_includes_relative_to_the_including_file(repo):
    project = project_of(
        repo,
        {
            "requirements.txt": "-r requirements/prod.txt\n",
            "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\ngunicorn\n",
            "requirements/base.txt": "Flask\n",
            "requirements/dev.txt": "-r base.txt\npytest\n",
            "constraints.txt": "flask<2.3\nwerkzeug<2.3\n",
        },
    )
    manifests = project.manifests
    assert [m.path for m in manifests.installed] == [
        "requirements.txt",
        "requirements/prod.txt",
        "requirements/base.txt",
    ]
    assert [m.path for m in manifests.constraints] == ["constraints.txt"]
    assert manifests.declares("flask").path == "requirements/base.txt"
    assert manifests.declares("werkzeug") is None, "a constraint installs nothing"
    assert manifests.declares("pytest") is None
    assert manifests.pinned_below("flask", "2.3") is True, "the constraint caps it"
    assert [(m.path, g) for m, g, _ in manifests.find("pytest")] == [("requirements/dev.txt", None)]


def test_it_reports_a_missing_include(repo):
    project = project_of(repo, {"requirements.txt": "flask\n-r requirements/prod.txt\n"})
    manifests = project.manifests
    assert manifests.installed[0].problems == [
        (2, "the include `requirements/prod.txt` points to requirements/prod.txt, which does not exist")
    ]
    assert not manifests.complete


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("flask==2.2.5", True),
        ("Flask~=2.2.0", True),
        ("flask>=2.0", False),
        ("flask", False),
        ("flask @ git+https://github.com/pallets/flask@2.2.5", None),
    ],
)
def test_it_tells_whether_the_build_pins_a_package_below_a_version(repo, line, expected):
    project = project_of(repo, {"requirements.txt": f"{line}\ngunicorn\n"})
    assert project.manifests.pinned_below("flask", "2.3") is expected


def test_a_package_the_build_does_not_declare_has_no_pin(repo):
    project = project_of(repo, {"requirements.txt": "flask-sqlalchemy==3.1.1\n"})
    assert project.manifests.pinned_below("sqlalchemy", "1.4") is None


def test_it_finds_duplicates_across_the_files_pip_reads_together(repo):
    project = project_of(
        repo,
        {
            "requirements.txt": "-r base.txt\nFlask_Login==0.6.3\n",
            "base.txt": 'flask-login==0.6.2\nnumpy<2; python_version < "3.9"\nnumpy>=2; python_version >= "3.9"\n',
        },
    )
    duplicates = [d for m in project.manifests.installed for d in m.duplicates]
    assert [(first.raw, repeated.raw) for first, repeated in duplicates] == [
        ("Flask_Login==0.6.3", "flask-login==0.6.2")
    ]


@pytest.mark.parametrize(
    ("files", "installed"),
    [
        (
            {"requirements.txt": "flask\n", "pyproject.toml": "[project]\nname='a'\nversion='1'\n", "Pipfile": ""},
            ["requirements.txt"],
        ),
        (
            {"pyproject.toml": "[project]\nname='a'\nversion='1'\n", "uv.lock": "", "Pipfile": ""},
            ["pyproject.toml"],
        ),
        ({"pyproject.toml": "[tool.black]\n", "Pipfile": "[packages]\nflask = '*'\n"}, ["Pipfile"]),
        (
            {
                "pyproject.toml": "[build-system]\nrequires = ['setuptools']\n",
                "setup.py": "from setuptools import setup\n",
            },
            ["pyproject.toml", "setup.py"],
        ),
        ({"setup.cfg": "[options]\ninstall_requires = flask\n"}, ["setup.cfg"]),
    ],
)
def test_it_installs_in_railpacks_order(repo, files, installed):
    assert [m.path for m in project_of(repo, files).manifests.installed] == installed


def test_an_editable_install_of_the_project_installs_its_dependencies(repo):
    project = project_of(
        repo,
        {
            "requirements.txt": "-e .[server]\n",
            "pyproject.toml": (
                '[project]\nname = "shop"\nversion = "1"\ndependencies = ["flask"]\n'
                '[project.optional-dependencies]\nserver = ["gunicorn"]\ntest = ["pytest"]\n'
            ),
        },
    )
    manifests = project.manifests
    assert manifests.declares("flask") and manifests.declares("gunicorn")
    assert manifests.declares("pytest") is None


def test_it_reads_the_manifest_of_the_app_root_in_a_monorepo(repo):
    project = project_of(
        repo,
        {"requirements.txt": "django\n", "api/requirements.txt": "flask\ngunicorn\n", "api/app.py": APP},
        app_root="api",
    )
    assert [m.path for m in project.manifests.installed] == ["api/requirements.txt"]
    assert project.manifests.get("requirements.txt") is None


def test_dependency_file_names_are_the_ones_railpack_reads():
    assert {"requirements.txt", "pyproject.toml", "Pipfile"} == DEPENDENCY_FILE_NAMES


# -- pyproject, Pipfile, setup -------------------------------------------------------------


def test_it_keeps_pep_621_extras_and_groups_out_of_the_main_dependencies():
    manifest = parse_pyproject(
        "pyproject.toml",
        '[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.11"\n'
        'dependencies = [\n  "flask>=3",\n  "Flask-Login",\n]\n\n'
        '[project.optional-dependencies]\nserver = ["gunicorn"]\n\n'
        '[dependency-groups]\ndev = ["pytest"]\n\n[tool.uv]\ndev-dependencies = ["ruff"]\n',
    )
    assert manifest.kind == "pyproject"
    assert [(r.name, r.line) for r in manifest.requirements] == [("flask", 6), ("flask-login", 7)]
    assert manifest.python_requires == ">=3.11" and manifest.python_requires_line == 4
    assert {g.section: [r.name for r in g.requirements] for g in manifest.groups} == {
        "[project.optional-dependencies] server": ["gunicorn"],
        "[dependency-groups] dev": ["pytest"],
        "[tool.uv] dev-dependencies": ["ruff"],
    }


def test_it_reads_poetry_main_dependencies_only():
    manifest = parse_pyproject(
        "pyproject.toml",
        '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n'
        "[tool.poetry.dependencies]\n"
        'python = "^3.12"\n'
        'Flask = "^2.2"\n'
        'psycopg2-binary = { version = "^2.9", optional = true }\n'
        'gunicorn = [{ version = "^23.0", markers = "sys_platform != \'win32\'" }]\n\n'
        '[tool.poetry.extras]\npostgres = ["psycopg2-binary"]\n\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8.0"\n\n'
        '[tool.poetry.group.docs]\noptional = true\n[tool.poetry.group.docs.dependencies]\nmkdocs = "*"\n',
    )
    assert manifest.kind == "poetry"
    assert [(r.name, r.specifier, r.line) for r in manifest.requirements] == [
        ("flask", ">=2.2,<3", 7),
        ("gunicorn", ">=23.0,<24", 9),
    ]
    assert manifest.python_requires == "^3.12"
    assert manifest.requirements[0].pinned_below("3.0") is True
    sections = {g.section: ([r.name for r in g.requirements], g.optional) for g in manifest.groups}
    assert sections == {
        "[tool.poetry.extras] postgres": (["psycopg2-binary"], False),
        "[tool.poetry.group.dev.dependencies]": (["pytest"], False),
        "[tool.poetry.group.docs.dependencies]": (["mkdocs"], True),
    }


def test_it_reports_invalid_toml_with_its_line():
    manifest = parse_pyproject(
        "pyproject.toml", '[project]\nname = "a"\ndependencies = [\n  "flask"\n  "gunicorn",\n]\n'
    )
    assert not manifest.parsed
    assert manifest.problems[0][0] == 5 and "pyproject.toml is not valid TOML" in manifest.problems[0][1]


def test_it_reports_a_dependency_that_is_not_pep_508():
    manifest = parse_pyproject("pyproject.toml", '[project]\nname = "a"\ndependencies = ["flask", "gunicorn 23"]\n')
    assert [r.name for r in manifest.requirements] == ["flask"]
    assert manifest.problems[0][0] == 3 and "`gunicorn 23`" in manifest.problems[0][1]


def test_it_reads_dynamic_dependencies_from_the_file_setuptools_names(repo):
    project = project_of(
        repo,
        {
            "pyproject.toml": (
                '[project]\nname = "a"\nversion = "1"\ndynamic = ["dependencies"]\n\n'
                '[tool.setuptools.dynamic]\ndependencies = { file = ["requirements.in"] }\n'
            ),
            "uv.lock": "",
            "requirements.in": "flask\ngunicorn\n",
        },
    )
    assert project.manifests.declares("gunicorn").path == "requirements.in"
    assert project.manifests.complete


def test_it_reads_pipfile_packages_and_keeps_dev_packages_apart():
    manifest = parse_pipfile(
        "Pipfile",
        '[[source]]\nurl = "https://pypi.org/simple"\n\n[packages]\nflask = "==2.2.5"\n'
        '"Flask-SQLAlchemy" = {version = "*", extras = ["async"]}\nacme = {git = "https://github.com/acme/x.git"}\n\n'
        '[dev-packages]\ngunicorn = "*"\n\n[requires]\npython_version = "3.12"\n',
    )
    assert [(r.name, r.specifier, r.line) for r in manifest.requirements] == [
        ("flask", "==2.2.5", 5),
        ("flask-sqlalchemy", "", 6),
        ("acme", "", 7),
    ]
    assert manifest.requirements[2].url == "https://github.com/acme/x.git"
    assert manifest.groups[0].section == "[dev-packages]"
    assert manifest.python_requires == "3.12" and manifest.python_requires_line == 13


@pytest.mark.parametrize(
    ("setup", "declared", "complete"),
    [
        (
            "from setuptools import setup, find_packages\n\nREQUIRES = ['flask>=3', 'gunicorn']\n\n"
            "setup(name='blog', packages=find_packages(), install_requires=REQUIRES)\n",
            True,
            True,
        ),
        (
            "import setuptools\n\nwith open('requirements.txt') as f:\n    reqs = f.read().splitlines()\n\n"
            "setuptools.setup(name='blog', install_requires=open('requirements/base.txt').read().splitlines())\n",
            True,
            True,
        ),
        (
            "from setuptools import setup\nfrom blog import deps\n\nsetup(name='blog', install_requires=deps())\n",
            False,
            False,
        ),
    ],
)
def test_it_reads_setup_py_install_requires(repo, setup, declared, complete):
    project = project_of(repo, {"setup.py": setup, "requirements/base.txt": "flask\ngunicorn\n"})
    manifests = project.manifests
    assert (manifests.declares("gunicorn") is not None) is declared
    assert manifests.complete is complete


def test_it_reads_setup_cfg():
    from analyzer.deps import parse_setup_cfg

    manifest = parse_setup_cfg(
        "setup.cfg",
        "[metadata]\nname = blog\n\n[options]\npython_requires = >=3.11\ninstall_requires =\n"
        "    flask>=3\n    gunicorn  # server\n\n[options.extras_require]\ntest = pytest\n",
    )
    assert [(r.name, r.line) for r in manifest.requirements] == [("flask", 7), ("gunicorn", 8)]
    assert manifest.python_requires == ">=3.11"
    assert manifest.groups[0].requirements[0].name == "pytest"


# -- what the build installs: Docker --------------------------------------------------------


def docker_project(repo, dockerfile, files):
    return project_of(repo, {"Dockerfile": dockerfile, "app.py": APP, **files})


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/docker.txt\n",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir -r requirements/docker.txt\n",
        "FROM python:3.12-slim\nCOPY requirements/docker.txt /tmp/reqs.txt\nRUN python -m pip install -r /tmp/reqs.txt\n",
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements/docker.txt ./\n"
        "RUN python3 -m venv /venv && /venv/bin/pip install --upgrade pip && /venv/bin/pip install -r docker.txt\n",
        "ARG REQS=requirements/docker.txt\nFROM python:3.12-slim\nARG REQS\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install --requirement=$REQS\n",
        "FROM python:3.12-slim AS build\nWORKDIR /app\nCOPY requirements requirements\n"
        "RUN pip wheel -r requirements/docker.txt -w /wheels\n"
        "FROM python:3.12-slim\nCOPY --from=build /wheels /wheels\nRUN pip install /wheels/*\n",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements/docker.txt\n",
        'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN ["pip", "install", "-r", "requirements/docker.txt"]\n',
    ],
)
def test_a_docker_build_installs_what_the_dockerfile_names(repo, dockerfile):
    project = docker_project(
        repo, dockerfile, {"requirements/docker.txt": "flask\ngunicorn\n", "requirements.txt": "flask\n"}
    )
    manifests = project.manifests
    assert manifests.docker
    assert [m.path for m in manifests.installed if m.kind != "dockerfile"] == ["requirements/docker.txt"]
    assert manifests.declares("gunicorn").path == "requirements/docker.txt"
    assert manifests.complete


def test_packages_named_on_the_pip_command_line_count(repo):
    project = docker_project(
        repo,
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt && pip install 'gunicorn==23.0.0' uvicorn[standard]\n",
        {"requirements.txt": "flask\n"},
    )
    manifests = project.manifests
    assert manifests.declares("gunicorn").path == "Dockerfile"
    assert manifests.declares("gunicorn").line == 4
    assert manifests.declares("uvicorn").extras == ("standard",)


@pytest.mark.parametrize(
    ("command", "dev_installed"),
    [
        ("poetry install --only main --no-root", False),
        ("poetry install --no-root --without dev", False),
        ("poetry install --no-root", True),
    ],
)
def test_a_docker_poetry_install_takes_the_groups_its_flags_say(repo, command, dev_installed):
    project = docker_project(
        repo,
        f"FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN pip install poetry && {command}\n",
        {
            "pyproject.toml": (
                '[tool.poetry]\nname = "a"\nversion = "1"\n[tool.poetry.dependencies]\npython = "^3.12"\n'
                'flask = "*"\n[tool.poetry.group.dev.dependencies]\ngunicorn = "*"\n'
            ),
            "poetry.lock": "",
        },
    )
    assert (project.manifests.declares("gunicorn") is not None) is dev_installed
    assert project.manifests.declares("flask") is not None


def test_a_docker_uv_sync_installs_the_project_without_dev_groups(repo):
    pyproject = (
        '[project]\nname = "a"\nversion = "1"\ndependencies = ["flask"]\n'
        '[project.optional-dependencies]\nprod = ["gunicorn"]\n[dependency-groups]\ndev = ["pytest"]\n'
    )
    synced = docker_project(
        repo,
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-dev\n",
        {"pyproject.toml": pyproject},
    )
    assert synced.manifests.declares("flask") and not synced.manifests.declares("pytest")


def test_a_docker_pip_install_of_the_project_takes_its_extras(tmp_path):
    from tests.analyzer.conftest import write_repo

    root = write_repo(
        tmp_path / "r",
        {
            "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -e ".[prod]"\n',
            "pyproject.toml": (
                '[project]\nname = "a"\nversion = "1"\ndependencies = ["flask"]\n'
                '[project.optional-dependencies]\nprod = ["gunicorn"]\n'
            ),
        },
    )
    assert Project(root).manifests.declares("gunicorn") is not None


def test_a_file_generated_by_an_export_is_not_missing(repo):
    project = docker_project(
        repo,
        "FROM python:3.12-slim AS req\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "RUN pip install poetry poetry-plugin-export && poetry export -f requirements.txt -o /tmp/req.txt\n"
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=req /tmp/req.txt .\nRUN pip install -r /tmp/req.txt\n",
        {
            "pyproject.toml": '[tool.poetry]\nname="a"\nversion="1"\n[tool.poetry.dependencies]\ngunicorn="*"\n',
            "poetry.lock": "",
        },
    )
    assert project.manifests.declares("gunicorn") is not None


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM tiangolo/uwsgi-nginx-flask:python3.12\nCOPY ./app /app\n",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN ./scripts/install.sh\n",
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r https://example.com/reqs.txt\n",
        "FROM python:3.12-slim\nWORKDIR /app\nRUN pip install -r requirements-generated.txt\n",
    ],
)
def test_a_docker_build_that_installs_unseen_things_is_incomplete(repo, dockerfile):
    project = docker_project(repo, dockerfile, {"requirements.txt": "flask\n"})
    assert not project.manifests.complete


def test_a_railway_builder_override_ignores_the_dockerfile(repo):
    project = docker_project(
        repo,
        "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements/docker.txt\n",
        {
            "railway.json": '{"build": {"builder": "RAILPACK"}}',
            "requirements.txt": "flask\n",
            "requirements/docker.txt": "gunicorn\n",
        },
    )
    assert [m.path for m in project.manifests.installed] == ["requirements.txt"]


# -- PF202's autofix -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", ["Flask==3.1.0\n", "Flask==3.1.0", "# deps\r\nflask\r\nblinker\r\nitsdangerous\r\n", ""]
)
def test_the_server_patch_applies_with_git(tmp_path, content):
    from tests.analyzer.conftest import write_repo

    root = write_repo(
        tmp_path / "r", {"requirements.txt": content, "Procfile": "web: gunicorn app:app\n", "app.py": APP}
    )
    (finding,) = analyze(root, select=["PF202"]).findings
    assert finding.patch and finding.fix_title == "Add `gunicorn` to requirements.txt"
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "apply"], cwd=root, input=finding.patch.encode(), check=True)
    lines = (root / "requirements.txt").read_text().splitlines()
    assert lines[-1] == "gunicorn"
    assert lines[:-1] == content.splitlines()
