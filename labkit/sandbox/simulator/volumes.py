"""Volumes of running tasks: what each container's mount points reach (see `labkit.dataplane.files`).

| volume in the task definition | lives | shared by |
| --- | --- | --- |
| bind mount, no `host.sourcePath` | as long as the task | the task's containers |
| bind mount with `host.sourcePath` (EC2) | as long as the container instance | tasks on that instance |
| `dockerVolumeConfiguration`, scope `task` (default) | as long as the task | the task's containers |
| `dockerVolumeConfiguration`, scope `shared` | as long as the container instance | tasks on that instance |
| `efsVolumeConfiguration` | as long as the file system | every task mounting it, in any AZ |

An EFS volume's `rootDirectory` (default `/`) is the folder of the file system mounted at the
container path, so two task definitions mounting `/a` and `/` see the same files at different
paths.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from labkit.dataplane.files import ContainerFiles, Mount, SharedDirectory

if TYPE_CHECKING:
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["VolumeStore"]


class VolumeStore:
    """The directories behind every task's volumes, in one sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._task: dict[tuple[str, str], SharedDirectory] = {}
        self._instance: dict[tuple[str, str], SharedDirectory] = {}
        self._efs: dict[str, SharedDirectory] = {}

    def _directory(self, table: dict[Any, SharedDirectory], key: Any) -> SharedDirectory:
        with self._lock:
            if key not in table:
                table[key] = SharedDirectory()
            return table[key]

    def _volume(self, runtime: TaskRuntime, volume: dict[str, Any]) -> tuple[SharedDirectory, str]:
        """The directory behind one volume of a task, and the folder of it that is mounted."""
        name = str(volume.get("name", ""))
        instance = runtime.container_instance_arn or ""
        efs = volume.get("efsVolumeConfiguration")
        if isinstance(efs, dict) and efs.get("fileSystemId"):
            return self._directory(self._efs, str(efs["fileSystemId"])), str(efs.get("rootDirectory") or "/")
        docker = volume.get("dockerVolumeConfiguration")
        if isinstance(docker, dict) and docker.get("scope") == "shared" and instance:
            return self._directory(self._instance, (instance, f"docker:{name}")), ""
        source = (
            (volume.get("host") or {}).get("sourcePath") if isinstance(volume.get("host"), dict) else None
        )
        if source and instance:
            return self._directory(self._instance, (instance, str(source))), ""
        return self._directory(self._task, (runtime.arn, name)), ""

    def files_for(self, runtime: TaskRuntime, definition: Any, container_name: str) -> ContainerFiles:
        """The file system of one container of a task: its mount points (and `volumesFrom`) over its own layer."""
        volumes = {
            str(v.get("name")): v for v in getattr(definition, "volumes", None) or [] if isinstance(v, dict)
        }
        containers = {str(c.get("name")): c for c in definition.container_definitions}

        def mounts_of(name: str, forced_read_only: bool, seen: frozenset[str]) -> list[Mount]:
            container = containers.get(name) or {}
            found: list[Mount] = []
            for point in container.get("mountPoints") or []:
                volume = volumes.get(str(point.get("sourceVolume")))
                if volume is None or not point.get("containerPath"):
                    continue
                directory, root = self._volume(runtime, volume)
                read_only = forced_read_only or bool(point.get("readOnly"))
                found.append(Mount(str(point["containerPath"]), directory, root, read_only))
            for source in container.get("volumesFrom") or []:
                other = str(source.get("sourceContainer", ""))
                if other and other not in seen:
                    found.extend(
                        mounts_of(other, forced_read_only or bool(source.get("readOnly")), seen | {other})
                    )
            return found

        layer = self._directory(self._task, (runtime.arn, f"layer:{container_name}"))
        return ContainerFiles(mounts_of(container_name, False, frozenset({container_name})), layer)

    def task_stopped(self, task_arn: str) -> None:
        """Forget the task's own volumes and layers (instance and EFS volumes stay)."""
        with self._lock:
            for key in [k for k in self._task if k[0] == task_arn]:
                del self._task[key]
