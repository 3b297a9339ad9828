"""./dev's system packages: apt-get update first, and in CI (CI=true) a package that cannot be
installed stops the run instead of letting its tests skip (issue 22). apt-get, dpkg-query and
id are stubs here: nothing is installed."""

import subprocess
import textwrap

import pytest

from tools.processes import REPO


@pytest.fixture
def dev_functions(tmp_path):
    """./dev's functions from say() to require_packages(), with stub commands first on PATH."""
    source = (REPO / "dev").read_text()
    start, end = source.index("say() {"), source.index("setup_python() {")
    (tmp_path / "functions.sh").write_text(source[start:end])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {
        # Installed packages are the lines of $STUB/installed; "install" adds those listed in
        # $STUB/installable, and fails for the others.
        "dpkg-query": """
            pkg="${@: -1}"
            grep -qx "$pkg" "$STUB/installed" 2>/dev/null && printf 'install ok installed'
            exit 0""",
        "apt-get": """
            echo "apt-get $*" >> "$STUB/calls"
            [ "$1" = update ] && exit 0
            status=0
            for pkg in "$@"; do
              case "$pkg" in -*|install) continue ;; esac
              if grep -qx "$pkg" "$STUB/installable" 2>/dev/null; then echo "$pkg" >> "$STUB/installed"; else status=100; fi
            done
            exit $status""",
        "id": "echo 0",
    }
    for name, body in stubs.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + textwrap.dedent(body).strip() + "\n")
        path.chmod(0o755)

    def run(*packages, installed=(), installable=(), ci=False):
        (tmp_path / "installed").write_text("".join(f"{p}\n" for p in installed))
        (tmp_path / "installable").write_text("".join(f"{p}\n" for p in installable))
        (tmp_path / "calls").write_text("")
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB": str(tmp_path), "HOME": str(tmp_path)}
        if ci:
            env["CI"] = "true"
        script = f"source {tmp_path / 'functions.sh'}; require_packages {' '.join(packages)}"
        result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
        calls = (tmp_path / "calls").read_text().splitlines()
        return result.returncode, result.stdout + result.stderr, calls

    return run


def test_nothing_is_installed_when_every_package_is_there(dev_functions):
    status, _output, calls = dev_functions("nginx", "redis-server", installed=["nginx", "redis-server"], ci=True)
    assert (status, calls) == (0, [])


def test_missing_packages_are_installed_after_apt_get_update(dev_functions):
    status, _output, calls = dev_functions(
        "nginx", "redis-server", installed=["redis-server"], installable=["nginx"], ci=True
    )
    assert status == 0
    assert [call.split()[1] for call in calls] == ["update", "install"]
    assert calls[1].endswith(" nginx")


def test_in_ci_a_package_that_cannot_be_installed_stops_the_run(dev_functions):
    status, output, _calls = dev_functions("nginx", "fonts-wqy-microhei", installable=["nginx"], ci=True)
    assert status == 1
    assert "could not install system packages: fonts-wqy-microhei" in output
    assert "CI needs these system packages: stopping." in output


def test_outside_ci_it_warns_and_goes_on(dev_functions):
    status, output, _calls = dev_functions("fonts-wqy-microhei")
    assert status == 0
    assert "could not install system packages: fonts-wqy-microhei" in output
    assert "warning: tests needing the missing packages will be skipped" in output


def test_dev_test_requires_the_services_its_tests_start():
    source = (REPO / "dev").read_text()
    line = next(line for line in source.splitlines() if line.strip().startswith("require_packages "))
    # gettext only for the translation checker's extraction (tests/test_i18n_check.py): the
    # catalogues themselves are compiled by cantina.msgfmt.
    for package in (
        "redis-server",
        "chromium",
        "nginx",
        "systemd",
        "fonts-dejavu-core",
        "fonts-wqy-microhei",
        "gettext",
    ):
        assert package in line.split()
    assert "|| return 1" in line
