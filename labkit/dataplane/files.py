"""Files a workload's container sees: its own layer, and the volumes mounted into it.

A task definition's `volumes` and each container's `mountPoints` (and `volumesFrom`) decide what a
path in a container is. In the emulator a volume is a `SharedDirectory`: a bind mount without a
host path lives as long as its task and is shared by the task's containers (how a sidecar reads
what the app writes); a host `sourcePath` is a directory of the container instance; an EFS volume
(`efsVolumeConfiguration`) is a directory of the file system, shared by every task that mounts it,
in any Availability Zone. A path under no mount point is the container's own writable layer.

    ctx.files.write_text("/data/message.txt", "hello")      # in the app container
    ctx.files.read_text("/data/message.txt")                # in the sidecar that mounts /data too
"""

from __future__ import annotations

import posixpath
import threading
from dataclasses import dataclass, field

__all__ = ["ContainerFiles", "Mount", "SharedDirectory"]


class SharedDirectory:
    """A directory tree kept in memory, safe to use from several workloads' threads."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def write(self, path: str, data: bytes) -> None:
        """Write the file at `path` (relative, '/'-separated), replacing what was there."""
        with self._lock:
            self._files[path] = bytes(data)

    def read(self, path: str) -> bytes:
        """The content of the file at `path`; raises `FileNotFoundError` when there is none."""
        with self._lock:
            try:
                return self._files[path]
            except KeyError:
                raise FileNotFoundError(path) from None

    def remove(self, path: str) -> None:
        """Delete the file at `path`; raises `FileNotFoundError` when there is none."""
        with self._lock:
            if self._files.pop(path, None) is None:
                raise FileNotFoundError(path)

    def names(self, folder: str) -> list[str]:
        """The names directly inside `folder` ('' is the top), files and sub-folders, sorted."""
        prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
        found = set()
        with self._lock:
            for path in self._files:
                if path.startswith(prefix):
                    found.add(path[len(prefix) :].split("/", 1)[0])
        return sorted(found)


@dataclass(frozen=True)
class Mount:
    """A volume (or a folder of it) mounted at `container_path`."""

    container_path: str
    directory: SharedDirectory
    root: str = ""
    read_only: bool = False


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"a container path is absolute; got {path!r}")
    return posixpath.normpath(path)


@dataclass
class ContainerFiles:
    """The file system of one container: mounts by container path, over a private layer of its own."""

    mounts: list[Mount] = field(default_factory=list)
    layer: SharedDirectory = field(default_factory=SharedDirectory)

    def _resolve(self, path: str) -> tuple[SharedDirectory, str, bool]:
        path = _absolute(path)
        best: Mount | None = None
        for mount in self.mounts:
            base = _absolute(mount.container_path)
            if (path == base or path.startswith(base.rstrip("/") + "/")) and (
                best is None or len(base) > len(_absolute(best.container_path))
            ):
                best = mount
        if best is None:
            return self.layer, path.lstrip("/"), False
        inside = path[len(_absolute(best.container_path)) :].strip("/")
        return best.directory, "/".join(p for p in (best.root.strip("/"), inside) if p), best.read_only

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file; raises `PermissionError` on a read-only mount and `ValueError` for a relative path."""
        directory, inside, read_only = self._resolve(path)
        if read_only:
            raise PermissionError(f"{path}: read-only file system")
        if not inside:
            raise IsADirectoryError(path)
        directory.write(inside, data)

    def write_text(self, path: str, text: str) -> None:
        """Write a text file (UTF-8); raises as `write_bytes`."""
        self.write_bytes(path, text.encode())

    def read_bytes(self, path: str) -> bytes:
        """The content of a file; raises `FileNotFoundError` when it does not exist."""
        directory, inside, _ = self._resolve(path)
        return directory.read(inside)

    def read_text(self, path: str) -> str:
        """The content of a text file (UTF-8); raises `FileNotFoundError` when it does not exist."""
        return self.read_bytes(path).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        """True when `path` is a file."""
        try:
            self.read_bytes(path)
        except (FileNotFoundError, IsADirectoryError):
            return False
        return True

    def listdir(self, path: str) -> list[str]:
        """The names in the folder `path`, sorted (empty for a folder nothing was written to)."""
        directory, inside, _ = self._resolve(path)
        return directory.names(inside)

    def remove(self, path: str) -> None:
        """Delete a file; raises `PermissionError` on a read-only mount, `FileNotFoundError` when absent."""
        directory, inside, read_only = self._resolve(path)
        if read_only:
            raise PermissionError(f"{path}: read-only file system")
        directory.remove(inside)
