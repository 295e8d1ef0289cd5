"""A small kustomize: the subset deploy/k8s uses, so the tests render every overlay offline
with nothing but PyYAML. (No real kustomize installs from the registries this project uses:
PyPI's ``kustomize`` is another tool, ``pykustomize`` needs Python 3.14, Debian's kubectl
embeds kustomize 2.0. Where a ``kubectl`` is on PATH, test_render compares the two.)

Supported, with kustomize's semantics:

- ``resources``: YAML files and directories holding a kustomization.yaml;
- ``configMapGenerator`` with ``files`` and ``options.disableNameSuffixHash: true``;
- ``patches`` with ``path``: strategic merge patches (one or more documents a file), with
  merge keys for containers, env, volumes, volumeMounts and ports, ``$patch: delete`` in a
  list item and ``null`` to delete a key;
- ``namespace``, ``images`` (newName/newTag), ``replicas``;
- ``replacements`` from one field to others, paths like ``a.b.[name=x].c``.

Anything else in a kustomization raises ``KustomizeError``: keep the files within this.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

SUPPORTED_FIELDS = frozenset({"apiVersion", "kind", "resources", "configMapGenerator", "patches",
                              "namespace", "images", "replicas", "replacements"})
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                            "StorageClass", "CustomResourceDefinition", "PriorityClass"})
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
# A strategic merge patch merges these lists item by item, by the first key present.
MERGE_KEYS = {"containers": ("name",), "initContainers": ("name",), "env": ("name",),
              "volumes": ("name",), "volumeMounts": ("mountPath",),
              "ports": ("containerPort", "port")}


class KustomizeError(Exception):
    """A kustomization this renderer can't (or kustomize wouldn't) build."""


def build(directory: Path) -> list[Manifest]:
    """Every object the kustomization in ``directory`` renders, in resource order."""
    kustomization = _load_one(directory / "kustomization.yaml")
    unsupported = set(kustomization) - SUPPORTED_FIELDS
    if unsupported:
        raise KustomizeError(f"{directory}: unsupported fields {sorted(unsupported)}")
    objects: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects += build(path) if path.is_dir() else load_documents(path)
    for generator in kustomization.get("configMapGenerator", []):
        objects.append(_generate_config_map(directory, generator))
    for patch in kustomization.get("patches", []):
        _apply_patch_file(objects, directory, patch)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    for replicas in kustomization.get("replicas", []):
        scaled = [o for o in objects if o["kind"] in SCALABLE
                  and o["metadata"]["name"] == replicas["name"]]
        if not scaled:
            raise KustomizeError(f"replicas: nothing scalable named {replicas['name']}")
        for obj in scaled:
            obj["spec"]["replicas"] = replicas["count"]
    for replacement in kustomization.get("replacements", []):
        _replace(objects, replacement)
    return objects


def load_documents(path: Path) -> list[Manifest]:
    with path.open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _load_one(path: Path) -> Manifest:
    documents = load_documents(path)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise KustomizeError(f"{path}: want one mapping")
    return documents[0]


def _find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise KustomizeError(f"want one {kind} named {name}, found {len(found)}")
    return found[0]


def _generate_config_map(directory: Path, generator: Manifest) -> Manifest:
    options = generator.get("options", {})
    if not options.get("disableNameSuffixHash") or set(generator) - {"name", "files",
                                                                      "options"}:
        raise KustomizeError("configMapGenerator: only files, with disableNameSuffixHash")
    metadata: Manifest = {"name": generator["name"]}
    if "labels" in options:
        metadata["labels"] = dict(options["labels"])
    data = {Path(f).name: (directory / f).read_text() for f in generator["files"]}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _apply_patch_file(objects: list[Manifest], directory: Path, patch: Manifest) -> None:
    if set(patch) != {"path"}:
        raise KustomizeError(f"patches: only path (strategic merge), got {sorted(patch)}")
    for document in load_documents(directory / patch["path"]):
        target = _find(objects, document["kind"], document["metadata"]["name"])
        merged = strategic_merge(target, document)
        target.clear()
        target.update(merged)


def strategic_merge(original: Any, patch: Any, field: str = "") -> Any:
    """``patch`` merged into ``original`` (neither changed) as kustomize merges them."""
    if isinstance(patch, dict) and isinstance(original, dict):
        if any(k.startswith("$") for k in patch):
            raise KustomizeError(f"unsupported directive in {field}: {sorted(patch)}")
        merged = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(patch, list) and isinstance(original, list) and field in MERGE_KEYS:
        return _merge_list(original, patch, MERGE_KEYS[field], field)
    return copy.deepcopy(patch)


def _merge_list(original: list[Any], patch: list[Any], keys: tuple[str, ...],
                field: str) -> list[Any]:
    # kustomize's order: the patch's items first (merged into their originals, or new, or
    # dropped by $patch: delete), then the originals the patch didn't name, in their order.
    def key_of(item: Manifest) -> tuple[str, Any]:
        for key in keys:
            if key in item:
                return key, item[key]
        raise KustomizeError(f"{field} item without a merge key: {item}")

    originals = {key_of(item): item for item in original}
    merged: list[Any] = []
    named: set[tuple[str, Any]] = set()
    for item in patch:
        key = key_of(item)
        named.add(key)
        directive = item.get("$patch")
        if directive == "delete":
            continue
        if directive is not None:
            raise KustomizeError(f"unsupported $patch: {directive} in {field}")
        merged.append(strategic_merge(originals[key], item, field) if key in originals
                      else copy.deepcopy(item))
    return merged + [copy.deepcopy(item) for item in original if key_of(item) not in named]


def _set_image(objects: list[Manifest], image: Manifest) -> None:
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = split_image(container["image"])
            if name == image["name"]:
                name = image.get("newName", name)
                tag = image.get("newTag", tag)
                container["image"] = f"{name}:{tag}" if tag else name


def split_image(reference: str) -> tuple[str, str, str]:
    """(name, ":", tag) of an image reference; a registry's :port is not a tag."""
    name, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return reference, "", ""
    return name, sep, tag


_SEGMENT = re.compile(r"^\[(?P<key>[^=\]]+)=(?P<value>[^\]]*)\]$")


def _replace(objects: list[Manifest], replacement: Manifest) -> None:
    source = replacement["source"]
    value = _get(_find(objects, source["kind"], source["name"]), source["fieldPath"])
    for target in replacement["targets"]:
        select = target["select"]
        obj = _find(objects, select["kind"], select["name"])
        for path in target["fieldPaths"]:
            # As kustomize does, a string field stays a string (env values, ConfigMap data).
            _set(obj, path, lambda old: str(value) if isinstance(old, str) else value)


def _walk(obj: Any, path: str) -> tuple[Any, str]:
    """The container of the last segment of a dotted path, and that segment."""
    segments = path.split(".")
    node = obj
    for segment in segments[:-1]:
        node = _step(node, segment, path)
    last = segments[-1]
    if _SEGMENT.match(last):
        raise KustomizeError(f"{path}: can't end on a list selector")
    return node, last


def _step(node: Any, segment: str, path: str) -> Any:
    selector = _SEGMENT.match(segment)
    if selector is None:
        if not isinstance(node, dict) or segment not in node:
            raise KustomizeError(f"{path}: no field {segment}")
        return node[segment]
    found = [item for item in node if isinstance(item, dict)
             and str(item.get(selector["key"])) == selector["value"]]
    if len(found) != 1:
        raise KustomizeError(f"{path}: {segment} selects {len(found)} items")
    return found[0]


def _get(obj: Manifest, path: str) -> Any:
    node, last = _walk(obj, path)
    return node[last]


def _set(obj: Manifest, path: str, new_value: Callable[[Any], Any]) -> None:
    node, last = _walk(obj, path)
    if last not in node:
        raise KustomizeError(f"{path}: no field {last} to replace")
    node[last] = new_value(node[last])
