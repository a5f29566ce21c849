"""Site profiles: built-ins, the SITES_FILE format and its errors, URL matching, link rules."""

from __future__ import annotations

import textwrap

import pytest

from crawler.pages.base import Page
from crawler.profiles import (
    PAGE_MODULES,
    ProfileError,
    all_profiles,
    builtin_profiles,
    generic_profile,
    get_profile,
    load_site_profiles,
    load_sites_file,
    profile_for_url,
)
from model.items import Career

EXAMPLE = """\
# Two sites that need no code: one with the OOH structure, one read by the generic extractors.
[[site]]
name = "ooh-mirror"
type = "bls_ooh"
start_urls = ["https://careers.example.gov/ooh/a-z-index.htm"]
follow = ['/ooh/[a-z0-9-]+/[a-z0-9-]+\\.htm$']
deny = ['/mobile/']
url_patterns = ['^/ooh/']

[[site]]
name = "lakeshore-careers"
type = "generic"
kinds = ["career"]
start_urls = ["https://www.lakeshore.example.edu/careercoach/"]
allowed_hosts = ["www.lakeshore.example.edu"]
follow = ['/careercoach/career\\.asp\\?id=\\d+$']
deny = ['[?&]print=']
max_pages = 300
schedule = "0 4 * * 1"
description = "Career Coach pages of a technical college"
"""


@pytest.fixture
def sites_file(tmp_path):
    def write(text: str, name: str = "sites.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def test_builtin_profiles_cover_the_four_sources():
    profiles = builtin_profiles()
    assert list(profiles) == ["bls_ooh", "collegenavigator", "directory", "reviews"]
    assert all(p.builtin and p.type in PAGE_MODULES for p in profiles.values())
    ooh = profiles["bls_ooh"]
    assert ooh.allowed_hosts == ("www.bls.gov",) and ooh.kinds == ("career",)
    assert "https://www.bls.gov/ooh/a-z-index.htm" in ooh.start_urls
    cn = profiles["collegenavigator"]
    assert "https://nces.ed.gov/collegenavigator/?s=AL" in cn.start_urls and len(cn.start_urls) >= 50


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.bls.gov/ooh/healthcare/dentists.htm", "bls_ooh"),
        ("https://www.bls.gov/ooh/a-z-index.htm", "bls_ooh"),
        ("https://nces.ed.gov/collegenavigator/?id=110635", "collegenavigator"),
        ("https://nces.ed.gov/collegenavigator/?s=NY&pg=2", "collegenavigator"),
        # The sample site: loopback hosts, the real sites' paths.
        ("http://127.0.0.2:8800/ooh/healthcare/dentists.htm", "bls_ooh"),
        ("http://127.0.0.3:8800/collegenavigator/?id=110635", "collegenavigator"),
        ("http://127.0.0.5:8800/api/entity-reviews/?e=12&page=2&limit=20", "reviews"),
        ("http://127.0.0.5:8800/reviews/colleges/x/reviews/?page=2", "reviews"),
        ("http://127.0.0.4:8800/cahiim/program-directory/program/1001", "directory"),
        ("http://127.0.0.2:8800/ooh/a-z/index.htm", "bls_ooh"),
        ("https://www.example.com/about", None),
        ("https://www.bls.gov/cpi/", None),
        ("not a url", None),
    ],
)
def test_profile_for_url(url, expected):
    found = profile_for_url(url, profiles=builtin_profiles())
    assert (found.name if found else None) == expected


def test_sites_file_example_loads(sites_file):
    profiles = load_sites_file(sites_file(EXAMPLE))
    mirror, lakeshore = profiles["ooh-mirror"], profiles["lakeshore-careers"]
    assert mirror.type == "bls_ooh" and mirror.kinds == ("career",)  # kinds default to the type's
    assert mirror.allowed_hosts == ("careers.example.gov",)  # default: the start URLs' hosts
    assert lakeshore.kinds == ("career",) and lakeshore.max_pages == 300 and lakeshore.schedule == "0 4 * * 1"
    assert not lakeshore.builtin and lakeshore.origin.endswith("sites.toml")
    # The user's profile is found by host, ahead of the built-in with the same paths.
    merged = {**builtin_profiles(), **profiles}
    assert profile_for_url("https://careers.example.gov/ooh/healthcare/dentists.htm", merged).name == "ooh-mirror"
    assert profile_for_url("https://www.lakeshore.example.edu/careercoach/career.asp?id=7", merged).name == (
        "lakeshore-careers")
    assert profile_for_url("https://www.bls.gov/ooh/healthcare/dentists.htm", merged).name == "bls_ooh"


def test_link_rules(sites_file):
    lakeshore = load_sites_file(sites_file(EXAMPLE))["lakeshore-careers"]
    assert lakeshore.should_follow("https://www.lakeshore.example.edu/careercoach/career.asp?id=12")
    assert not lakeshore.should_follow("https://www.lakeshore.example.edu/careercoach/career.asp?id=12&print=1")
    assert not lakeshore.should_follow("https://other.example.edu/careercoach/career.asp?id=12")
    assert not lakeshore.should_follow("https://www.lakeshore.example.edu/athletics/")
    assert not lakeshore.should_follow("mailto:x@example.edu")
    page = Page("https://www.lakeshore.example.edu/careercoach/", b"""
        <a href="career.asp?id=1">a</a><a href="career.asp?id=2&print=1">p</a><a href="/news/">n</a>
        <a href="https://evil.example.com/careercoach/career.asp?id=3">x</a>""")
    assert lakeshore.follow_links(page) == ["https://www.lakeshore.example.edu/careercoach/career.asp?id=1"]
    # No follow rules: every link on the allowed hosts.
    assert generic_profile().should_follow("https://anything.example/")


def test_profile_reads_pages_with_its_module_and_name(sites_file, tmp_path):
    from pathlib import Path

    mirror = load_sites_file(sites_file(EXAMPLE))["ooh-mirror"]
    html = (Path(__file__).resolve().parents[3] / "sample_site" / "data" / "bls_ooh_html" / "dentists.html").read_bytes()
    [career] = mirror.page_for("https://careers.example.gov/ooh/healthcare/dentists.htm", html).to_items()
    assert isinstance(career, Career) and career.source == "ooh-mirror" and career.soc_code == "29-1020"


def test_with_base_url_moves_a_profile_to_the_sample_site():
    moved = builtin_profiles()["bls_ooh"].with_base_url("http://127.0.0.2:8800/")
    assert moved.start_urls[0] == "http://127.0.0.2:8800/ooh/a-z-index.htm"
    assert moved.allowed_hosts == ("127.0.0.2",)
    assert moved.should_follow("http://127.0.0.2:8800/ooh/healthcare/dentists.htm")
    assert not moved.should_follow("https://www.bls.gov/ooh/healthcare/dentists.htm")


def test_settings_sites_file(settings, sites_file):
    assert load_site_profiles(settings) == {}
    with_file = settings.replace(SITES_FILE=str(sites_file(EXAMPLE)))
    assert set(load_site_profiles(with_file)) == {"ooh-mirror", "lakeshore-careers"}
    assert list(all_profiles(with_file))[:4] == ["bls_ooh", "collegenavigator", "directory", "reviews"]
    assert get_profile("lakeshore-careers", with_file).type == "generic"
    assert get_profile("generic", with_file).type == "generic"
    with pytest.raises(ProfileError, match="unknown profile 'nope'; known profiles: bls_ooh, .*lakeshore-careers"):
        get_profile("nope", with_file)


BAD_FILES = [
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\ncolour = 'blue'\n", r"site #1 \('x'\): unknown key 'colour'"),
    ("[[site]]\nname = 'x'\n", r"site #1 \('x'\): 'start_urls' is required"),
    ("[[site]]\nname = 'Bad Name'\nstart_urls = ['https://a.example/']\n", r"site #1: 'name' must be"),
    ("[[site]]\nname = 'x'\ntype = 'spaceship'\nstart_urls = ['https://a.example/']\n", r"'type' must be one of bls_ooh"),
    ("[[site]]\nname = 'x'\nstart_urls = ['ftp://a.example/']\n", r"'start_urls' entry 'ftp://a.example/' is not an http\(s\) URL"),
    ("[[site]]\nname = 'x'\nstart_urls = 'https://a.example/'\nfollow = ['(unclosed']\n",
     r"'follow' entry '\(unclosed' is not a valid regular expression"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\nkinds = ['career', 'job']\n", r"'kinds' entry 'job'"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\nallowed_hosts = ['b.example']\n",
     r"start URL 'https://a.example/' is not on an allowed host"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\nallowed_hosts = ['https://a.example/']\n",
     r"'allowed_hosts' entry 'https://a.example/' must be a host name"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\nmax_pages = 0\n", r"'max_pages' must be a whole number"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\nschedule = 'daily'\n", r"'schedule' must be a cron"),
    ("[[site]]\nname = 'bls_ooh'\nstart_urls = ['https://a.example/']\n", r"'name' 'bls_ooh' is taken"),
    ("[[site]]\nname = 'x'\nstart_urls = ['https://a.example/']\n[[site]]\nname = 'x'\nstart_urls = ['https://b.example/']\n",
     r"site #2 \('x'\): 'name' 'x' is taken"),
    ("[site]\nname = 'x'\n", r"'site' must be an array of tables"),
    ("name = 'x'\n", r"unknown top-level key 'name'"),
    ("[[site]\nname = 'x'\n", r"is not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_sites_files_give_one_line_errors_naming_file_and_key(sites_file, text, message):
    path = sites_file(text, "bad.toml")
    with pytest.raises(ProfileError, match=message) as info:
        load_sites_file(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_sites_file(tmp_path):
    with pytest.raises(ProfileError, match=r"sites file .*nope\.toml does not exist"):
        load_sites_file(tmp_path / "nope.toml")
    with pytest.raises(ProfileError, match="is a directory"):
        load_sites_file(tmp_path)
