"""The offline file reader (sources/files.py): one lstat per file, and still no read through a link out of the
folder, of a FIFO or past the size limit, even when a file changes between the check and the read."""

from __future__ import annotations

import os

import pytest

from aoai_audit.sources.files import Reader

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and O_NOFOLLOW are POSIX")


def test_a_probed_file_is_read_once_and_whole(tmp_path):
    (tmp_path / "policy.xml").write_bytes(b"<policies/>\n")
    reader = Reader(root=str(tmp_path))
    path = str(tmp_path / "policy.xml")
    assert reader.is_file(path) and not reader.is_file(str(tmp_path / "absent.xml"))
    assert reader.read_bytes(path, 100) == b"<policies/>\n" and not reader.gaps
    assert reader.read_bytes(path, 5) is None and "over the 5-byte limit" in reader.gaps[-1].message


@posix_only
def test_a_fifo_is_never_a_file_and_reading_one_named_directly_does_not_block(tmp_path):
    fifo = tmp_path / "policy.xml"
    os.mkfifo(fifo)
    reader = Reader(root=str(tmp_path))
    assert not reader.is_file(str(fifo))
    assert reader.read_bytes(str(fifo), 100) is None  # returns at once (O_NONBLOCK), refused by fstat
    assert "not a regular file" in reader.gaps[-1].message


@posix_only
def test_a_file_swapped_for_a_link_out_of_the_folder_after_the_check_is_not_followed(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("secret")
    root = tmp_path / "estate"
    root.mkdir()
    policy = root / "policy.xml"
    policy.write_text("<policies/>")
    reader = Reader(root=str(root))
    assert reader.is_file(str(policy))
    policy.unlink()
    policy.symlink_to(secret)
    assert reader.read_bytes(str(policy), 100) is None
    assert reader.gaps and reader.gaps[-1].kind == "unreadable"


@posix_only
def test_a_link_out_of_the_folder_is_a_gap_and_a_link_inside_is_read(tmp_path):
    (tmp_path / "outside.xml").write_text("<policies/>")
    root = tmp_path / "estate"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "policy.xml").write_text("<policies><inbound/></policies>")
    (root / "out.xml").symlink_to(tmp_path / "outside.xml")
    (root / "in.xml").symlink_to(root / "shared" / "policy.xml")
    reader = Reader(root=str(root))
    assert reader.is_file(str(root / "out.xml")) and reader.is_file(str(root / "in.xml"))
    assert reader.read_bytes(str(root / "out.xml"), 100) is None and "outside the scanned folder" in reader.gaps[-1].message
    assert reader.read_bytes(str(root / "in.xml"), 100) == b"<policies><inbound/></policies>"
