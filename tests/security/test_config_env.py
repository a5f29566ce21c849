"""Config and environment attacks on the real ``collegesearch`` command: a broken or wrong config, bad options
on every subcommand, an unwritable data directory, a full disk, a busy port. Each gets ONE ``error:`` line
that says what to fix and a non-zero exit code, never a traceback.

Unwritable and full file systems are real: a read-only tmpfs and a tiny tmpfs mounted for the test
(``mount`` works as root here); where mounting is not allowed the full disk falls back to ``RLIMIT_FSIZE`` in
the child and the read-only folder to ``chmod`` (when not root), and the test says which it used.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from tests.plugins.system import free_port
from tests.security.support import assert_one_line_error, child_env, run_cli

pytestmark = pytest.mark.xdist_group("security_cli")

# Every subcommand that reads the settings, with arguments that would otherwise make it start working.
SETTINGS_COMMANDS: list[list[str]] = [
    ["crawl", "bls_ooh", "--base-url", "http://127.0.0.1:9"], ["index", "sync"], ["index", "rebuild"],
    ["serve", "--port", "9"], ["demo", "--no-serve", "--site-port", "9", "--port", "9"], ["schedule", "--once"],
    ["status"], ["extract", str(Path(__file__))],
]


def run_many(cases: list[tuple[list[str], dict[str, str]]], timeout: float = 120, cwd: Path | None = None):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda case: run_cli(case[0], case[1], timeout=timeout, cwd=cwd), cases))


# -- config ---------------------------------------------------------------------------------------


BROKEN_FILES = {
    "bad TOML": ('data_dir = "/tmp/x"\nweb_port = \n', ["not valid toml"]),
    "unknown key": ('web_prot = 5000\n', ["web_prot"]),
    "wrong type": ('web_port = "five thousand"\n', ["WEB_PORT"]),
    "array for a number": ("web_workers = [1, 2]\n", ["WEB_WORKERS"]),
    "empty data_dir": ('data_dir = ""\n', ["DATA_DIR"]),
    "bad cron": ('schedule_reviews = "every day at noon"\n', ["SCHEDULE_REVIEWS"]),
    "bad time zone": ('schedule_timezone = "Mars/Olympus_Mons"\n', ["SCHEDULE_TIMEZONE"]),
    "binary garbage": (b"\xff\xfe\x00garbage\x00\x81", ["config"]),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_config_file_is_one_line_on_every_command(tmp_path, name):
    content, words = BROKEN_FILES[name]
    path = tmp_path / "collegesearch.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = child_env()  # no DATA_DIR in the environment: it would win over the file's data_dir
    # Every command sees a file that is not TOML at all; the other mistakes go through two of them.
    commands = SETTINGS_COMMANDS if name in ("bad TOML", "binary garbage") else [["status"], ["serve", "--port", "9"]]
    cases = [(["--config", str(path), *cmd], env) for cmd in commands]
    cases.append((["index", "sync"], {**env, "COLLEGESEARCH_CONFIG": str(path)}))
    for result in run_many(cases, cwd=tmp_path, timeout=30):
        assert_one_line_error(result, *words)


@pytest.mark.parametrize("setup", ["missing", "directory", "empty"])
def test_config_file_missing_or_not_a_file(tmp_path, setup):
    path = tmp_path / "conf.toml"
    if setup == "directory":
        path.mkdir()
    elif setup == "empty":
        path.write_text("")
    env = child_env(tmp_path / "data", CONFIG=str(path))
    result = run_cli(["status"], env)
    if setup == "empty":  # an empty file is a valid config: defaults
        assert result.returncode == 0, result.describe()
    else:
        assert_one_line_error(result, str(path))


ENV_VALUES = {
    "WEB_PORT": "abc", "LOG_LEVEL": "LOUD", "DOWNLOAD_DELAY": "-1", "SAMPLE_SITE_URL": "ftp://example.org",
    "REDIS_URL": "localhost:6379", "SECURE_COOKIES": "maybe", "SCHEDULE_BLS_OOH": "* * *", "CRAWL_TIME_LIMIT": "",
    "DATA_DIR": "   ", "LINK_MIN_SCORE": "NaN",
}


def test_invalid_environment_values_name_the_setting(tmp_path):
    cases = []
    for name, value in ENV_VALUES.items():
        env = child_env(tmp_path / "data")
        env[f"COLLEGESEARCH_{name}"] = value
        cases.append((["index", "sync"], env))
    for (_, env), result in zip(cases, run_many(cases), strict=True):
        name = next(k for k in ENV_VALUES if env.get(f"COLLEGESEARCH_{k}") == ENV_VALUES[k])
        assert_one_line_error(result, f"COLLEGESEARCH_{name}")


def all_commands() -> list[tuple[list[str], click.Command]]:
    from collegesearch import cli

    out: list[tuple[list[str], click.Command]] = []

    def walk(path: list[str], command: click.Command) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk([*path, name], sub)
        else:
            out.append((path, command))

    walk([], cli.main)
    return out


def test_every_subcommand_rejects_bad_options_in_one_line(tmp_path):
    commands = all_commands()
    assert {" ".join(p) for p, _ in commands} >= {"crawl", "index sync", "index rebuild", "serve", "demo",
                                                  "sample-site", "extract", "schedule", "status"}
    env = child_env(tmp_path / "data")
    cases = [([*path, "--no-such-option"], env) for path, _ in commands]
    # And every typed option with a value of the wrong type.
    for path, command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and param.type.name in ("integer", "float",
                                                                                             "integer range",
                                                                                             "float range", "choice"):
                cases.append(([*path, param.opts[0], "not-a-value"], env))
    cases += [(["serve", "--port", "0"], env), (["serve", "--port", "70000"], env), (["serve", "--workers", "65"], env),
              (["demo", "--port", "-1"], env), (["sample-site", "--epoch", "0"], env), (["extract"], env),
              (["extract", "--kind", "spaceship", "x.html"], env), (["no-such-command"], env), (["index"], env)]
    results = run_many(cases)
    for result in results:
        if result.args == ["index"]:  # a group without a subcommand shows its help: not an error
            assert "sync" in result.stdout + result.stderr
            continue
        line = assert_one_line_error(result)
        assert "--help" in line or "error:" in line
    assert len(results) >= 20


def test_every_trigger_the_demo_and_scheduler_pass_is_accepted(tmp_path):
    """`collegesearch demo` and the scheduler start crawls with --trigger; a value the option refuses breaks them."""
    import re

    root = Path(__file__).resolve().parents[2]
    used = set(re.findall(r'"--trigger",\s*"([a-z_]+)"', (root / "collegesearch" / "demo.py").read_text(encoding="utf-8")))
    assert used, "demo.py no longer passes --trigger: update this test"
    port = free_port()
    for trigger in sorted(used | {"manual", "schedule", "admin", "retry"}):
        result = run_cli(["crawl", "--trigger", trigger, "bls_ooh", "--base-url", f"http://127.0.0.1:{port}"],
                         child_env(tmp_path / "data"))
        line = assert_one_line_error(result)
        assert "--trigger" not in line and "sample site" in line, f"--trigger {trigger}: {line}"


def test_unknown_source_lists_the_valid_ones(tmp_path, sample_site):
    result = run_cli(["crawl", "nonsense", "--base-url", sample_site.base_url], child_env(tmp_path / "data"))
    assert_one_line_error(result, "nonsense", "bls_ooh", "collegenavigator")
    result = run_cli(["crawl", "bls_ooh", "--base-url", f"http://127.0.0.1:{free_port()}"], child_env(tmp_path / "d2"))
    assert_one_line_error(result, "sample site")


# -- unwritable data directory ----------------------------------------------------------------------


def _mount(fs_dir: Path, options: str) -> bool:
    if shutil.which("mount") is None:
        return False
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(fs_dir)], capture_output=True)
    return proc.returncode == 0


def _umount(fs_dir: Path) -> None:
    subprocess.run(["umount", "-l", str(fs_dir)], capture_output=True)


@contextlib.contextmanager
def unwritable_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder nobody can write into: a read-only tmpfs, or chmod 555 when not root."""
    fs_dir = tmp_path / "readonly-fs"
    fs_dir.mkdir()
    if _mount(fs_dir, "ro,size=1m"):
        try:
            yield fs_dir, "read-only tmpfs"
        finally:
            _umount(fs_dir)
        return
    if os.geteuid() != 0:
        fs_dir.chmod(0o555)
        try:
            yield fs_dir, "chmod 555"
        finally:
            fs_dir.chmod(0o755)
        return
    pytest.skip("cannot make an unwritable folder here: mount is not allowed and root ignores permissions")


def test_unwritable_data_dir(tmp_path, sample_site):
    with unwritable_dir(tmp_path) as (fs_dir, how):
        env = child_env(fs_dir / "data")
        commands = [["crawl", "directory", "--base-url", sample_site.base_url], ["index", "sync"], ["index", "rebuild"],
                    ["serve", "--port", str(free_port())], ["schedule", "--once"],
                    ["demo", "--no-serve", "--site-port", str(sample_site.port), "--port", str(free_port())]]
        results = run_many([(cmd, env) for cmd in commands], timeout=180)
    for result in results:
        line = assert_one_line_error(result)
        assert any(w in line.lower() for w in ("read-only", "writable", "permission")), f"({how}) {line}"
        assert str(fs_dir) in line, f"the error should say where: {line}"


# -- full disk --------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(tmp_path: Path, size_kb: int) -> Iterator[tuple[Path, str, object]]:
    """A folder on a tiny file system: a tmpfs of size_kb, or (no mount) RLIMIT_FSIZE set in the child."""
    fs_dir = tmp_path / "small-fs"
    fs_dir.mkdir()
    if _mount(fs_dir, f"size={size_kb}k"):
        try:
            yield fs_dir, f"tmpfs of {size_kb} KB", None
        finally:
            _umount(fs_dir)
        return

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (size_kb * 1024, size_kb * 1024))

    yield fs_dir, f"RLIMIT_FSIZE of {size_kb} KB", limit


def test_index_rebuild_on_a_full_disk_keeps_the_old_index(tmp_path, built_web_data):
    """The index folder's disk fills up during a rebuild: one line, and the index already there still answers."""
    from catalog import Catalog
    from indexer.search import Searcher
    from model.items import Review

    catalog = tmp_path / "catalog.sqlite3"
    shutil.copy(built_web_data / "catalog.sqlite3", catalog)
    with small_disk(tmp_path, 1024) as (fs_dir, how, limit):
        env = child_env(tmp_path / "data", CATALOG_PATH=catalog, INDEX_DIR=fs_dir / "index")
        first = run_cli(["index", "rebuild"], env)  # (under RLIMIT_FSIZE only the second rebuild is limited)
        assert first.returncode == 0, f"({how}) {first.describe()}"
        before = Searcher(index_dir=fs_dir / "index").search("", {"kind": "review"}).total
        # Enough long reviews that a second full index cannot fit beside the first.
        with Catalog(catalog) as cat, cat.transaction():
            for n in range(3000):
                cat.upsert(Review(url=f"https://reviews.example.org/r/{n}", source="reviews", review_id=f"fill:{n}",
                                  institution_name="Georgia Health College", institution_unitid="100001",
                                  rating=4, body=f"Filler review number {n}. " + "The labs were busy. " * 40))
        second = run_cli(["index", "rebuild"], env, preexec_fn=limit)
        line = assert_one_line_error(second)
        assert any(w in line.lower() for w in ("full", "space", "size limit")), f"({how}) {line}"
        searcher = Searcher(index_dir=fs_dir / "index")
        try:
            assert searcher.search("", {"kind": "review"}).total == before, "the old index was damaged"
        finally:
            searcher.close()


def _grow(fs_dir: Path, how: str, size_kb: int) -> bool:
    """Give a small_disk room again: remount the tmpfs bigger (RLIMIT_FSIZE: the next child has no limit)."""
    if how.startswith("tmpfs"):
        proc = subprocess.run(["mount", "-o", f"remount,size={size_kb}k", str(fs_dir)], capture_output=True)
        return proc.returncode == 0
    return True


@pytest.mark.slow
def test_crawl_on_a_full_disk_stops_with_one_line_and_loses_nothing(tmp_path, sample_site):
    """The catalog's disk fills up midway: the spider stops at once with ONE line that says what to do, a
    non-zero exit, nothing committed is lost, refused writes are not counted; with room again the next crawl
    resumes from the pages stored and finishes with every program of the directory."""
    from catalog import Catalog
    from sample_site import truth

    expected_ids = {pid for pid, data in truth.expected_items(1)["program"].items() if data["source"] == "directory"}
    with small_disk(tmp_path, 400) as (fs_dir, how, limit):
        data = fs_dir / "data"
        # Small commits: the disk fills up after some pages are stored, whatever the machine's speed.
        env = {**child_env(data), "SCRAPY_SETTINGS_MODULE": "tests.security.small_flush_settings"}
        result = run_cli(["crawl", "directory", "--base-url", sample_site.base_url], env, timeout=300, preexec_fn=limit)
        assert result.returncode != 0, result.describe()
        assert "Traceback" not in result.stderr + result.stdout, f"({how}) {result.describe()}"
        errors = [line for line in result.stderr.splitlines() if "disk" in line.lower() and "full" in line.lower()]
        assert len(errors) == 1, f"({how}) expected one line about the full disk:\n{result.describe()}"
        line = errors[0]
        assert str(data) in line and "run the crawl again" in line, f"({how}) the line says where and what: {line}\n{result.describe()}"
        assert "free space" in line or "raise the limit" in line, line
        with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
            assert cat.integrity_check() == []
            stored = {(s.kind, s.item_id): s.content_hash for s in cat.iter_items()}
            programs = cat.count("program")
            [run] = cat.list_runs()
            done_pages = {row[0] for row in cat.conn.execute(
                "SELECT url FROM pages WHERE last_run_id = :run_id AND body IS NOT NULL", {"run_id": run.id})}
        assert 0 < programs < len(expected_ids), f"({how}) the disk should fill up midway: {programs} programs"
        assert run.status == "failed" and not run.complete, run
        assert run.stats["finish_reason"] == "disk_full" and run.stats["resumable"] is True, run.stats
        # Every program counted new is one the catalog holds: a refused (rolled back) write is not counted.
        assert run.stats["items"]["new"] == programs, (run.stats["items"], programs)
        # It stopped instead of fetching the rest of the site into a catalog that cannot keep it.
        assert run.stats["errors"].get("catalog", 0) <= 3, run.stats["errors"]

        assert _grow(fs_dir, how, 64 * 1024), f"({how}) could not give the disk room again"
        again = run_cli(["crawl", "directory", "--base-url", sample_site.base_url], env, timeout=300)
        assert again.returncode == 0, f"({how}) {again.describe()}"
        with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
            assert cat.integrity_check() == []
            first, second = sorted(cat.list_runs(), key=lambda r: r.id)
            lost = [key for key, digest in stored.items()
                    if (item := cat.get(*key)) is None or item.content_hash != digest]
            ids = {s.item_id for s in cat.iter_items("program", source="directory")}
    assert not lost, f"items committed before the disk filled up changed or vanished: {lost[:10]}"
    assert second.status == "ok" and second.complete, second
    assert second.stats["resumed_from"] == [first.id], second.stats
    assert second.stats["pages_resumed"] >= len(done_pages) > 0, (second.stats, len(done_pages))
    assert ids == expected_ids, (sorted(expected_ids - ids)[:10], sorted(ids - expected_ids)[:10])


# -- busy ports -------------------------------------------------------------------------------------


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_busy_ports(tmp_path):
    env = child_env(tmp_path / "data")
    with busy_port() as port:
        cases = [(["serve", "--port", str(port)], env), (["sample-site", "--port", str(port)], env),
                 (["demo", "--port", str(port), "--site-port", "0"], env),
                 (["demo", "--port", str(free_port()), "--site-port", str(port)], env)]
        for result in run_many(cases, timeout=300):
            assert_one_line_error(result, str(port))
    cfg = tmp_path / "c.toml"
    with busy_port() as port:
        cfg.write_text(f"web_port = {port}\n")
        assert_one_line_error(run_cli(["--config", str(cfg), "serve"], env), str(port), "in use")


def test_sample_site_refuses_a_port_another_sample_site_holds(sample_site, tmp_path):
    result = run_cli(["sample-site", "--port", str(sample_site.port)], child_env(tmp_path / "data"), timeout=120)
    assert_one_line_error(result, str(sample_site.port), "in use")
