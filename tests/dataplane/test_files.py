"""A container's files: mount points over its own layer, read-only mounts, EFS root directories."""

from __future__ import annotations

import pytest

from labkit.dataplane.files import ContainerFiles, Mount, SharedDirectory


def test_two_containers_mounting_one_volume_see_the_same_files() -> None:
    """What one container writes under its mount point the other reads under its own path."""
    volume = SharedDirectory()
    app = ContainerFiles([Mount("/data", volume)])
    sidecar = ContainerFiles([Mount("/in", volume, read_only=True)])
    app.write_text("/data/logs/today.txt", "hello")
    assert sidecar.read_text("/in/logs/today.txt") == "hello"
    assert sidecar.listdir("/in") == ["logs"]
    assert sidecar.listdir("/in/logs") == ["today.txt"]


def test_a_read_only_mount_refuses_writes() -> None:
    """Writing or deleting through a readOnly mount point is a PermissionError."""
    files = ContainerFiles([Mount("/in", SharedDirectory(), read_only=True)])
    with pytest.raises(PermissionError, match="read-only"):
        files.write_text("/in/x", "no")
    with pytest.raises(PermissionError):
        files.remove("/in/x")


def test_paths_under_no_mount_stay_in_the_containers_own_layer() -> None:
    """A file outside every mount point is private to the container."""
    volume = SharedDirectory()
    first, second = ContainerFiles([Mount("/data", volume)]), ContainerFiles([Mount("/data", volume)])
    first.write_text("/tmp/private", "mine")
    assert first.read_text("/tmp/private") == "mine"
    assert not second.exists("/tmp/private")
    with pytest.raises(FileNotFoundError):
        second.read_text("/tmp/private")


def test_the_longest_mount_point_wins_and_a_root_directory_is_a_folder_of_the_volume() -> None:
    """/data/efs goes to the EFS volume's /exports folder, /data/other to the outer volume."""
    outer, efs = SharedDirectory(), SharedDirectory()
    files = ContainerFiles([Mount("/data", outer), Mount("/data/efs", efs, root="/exports")])
    files.write_text("/data/efs/a.txt", "shared")
    files.write_text("/data/other.txt", "outer")
    assert ContainerFiles([Mount("/mnt", efs)]).read_text("/mnt/exports/a.txt") == "shared"
    assert outer.names("") == ["other.txt"]


def test_a_relative_path_is_refused() -> None:
    """Container paths are absolute."""
    with pytest.raises(ValueError, match="absolute"):
        ContainerFiles().write_text("data/x", "no")
