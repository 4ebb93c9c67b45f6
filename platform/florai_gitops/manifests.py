"""Render the apps' kustomize overlays (work tree or a git ref) and diff them between refs.

An environment renders as its Argo CD Applications sync apps/deploy: the API's overlay, the web UI's
overlay and the cluster-wide objects, each with its Application's own kustomize patches and images
(argocd/apps), whose GitOps-bridge values stay placeholders (``{{metadata.annotations.<name>}}``)
because only the cluster Secret holds them.

python -m florai_gitops.manifests render          # .data/manifests/<env>.yaml + a per-kind summary
python -m florai_gitops.manifests diff --base REF  # unified diff per environment, REF -> work tree
"""

from __future__ import annotations

import argparse
import difflib
import functools
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from florai_dev.tools import ToolError, tool_path
from florai_gitops import appsets
from florai_infra import names

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
# Everything an overlay may reference lives under this folder.
DEPLOY_DIR = "apps/deploy"
OUT_DIR = Path(".data/manifests")
NO_CHANGES = "no changes"


class RenderError(RuntimeError):
    """kubectl kustomize (or git) failed; the message carries its stderr."""


def overlay_dir(root: Path, env: str) -> Path:
    return root / DEPLOY_DIR / "overlays" / env


def kustomize(path: Path) -> list[dict[str, Any]]:
    """Objects `kubectl kustomize` renders from a kustomization folder."""
    try:
        kubectl = tool_path("kubectl")
    except ToolError as exc:
        raise RenderError(f"error: {exc}") from None
    done = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RenderError(f"kubectl kustomize {path} failed:\n{done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# `kustomize edit set image` keeps the entry's current value of a field given as this.
PRESERVE = "*"


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference, as kustomize's image.Split reads it."""
    slash = image.find("/")
    search = image[slash:] if slash > 0 else image
    offset = slash if slash > 0 else 0
    at, colon = search.find("@"), search.find(":")
    if at < 0 and colon < 0:
        return image, "", ""
    if at >= 0 and (colon < 0 or at < colon):
        return image[: at + offset], "", image[at + offset + 1 :]
    if at >= 0:
        return image[: colon + offset], image[colon + offset + 1 : at + offset], image[at + offset + 1 :]
    return image[: colon + offset], image[colon + offset + 1 :], ""


def set_image(entries: list[dict[str, Any]], spec: str) -> list[dict[str, Any]]:
    """``kustomize edit set image <spec>`` (what Argo CD runs for each ``kustomize.images`` entry): the
    entry of that name is replaced, each field given as ``*`` keeps its current value."""
    key, sep, value = spec.partition("=")
    name, tag, digest = split_image(value if sep else spec)
    new = {"name": key if sep else name, "newName": name if sep else "", "newTag": tag, "digest": digest}
    current = next((e for e in entries if e.get("name") == new["name"]), {})
    for field in ("newName", "newTag", "digest"):
        if new[field] == PRESERVE:
            new[field] = str(current.get(field, ""))
    entry = {k: v for k, v in new.items() if v}
    return [e for e in entries if e.get("name") != new["name"]] + [entry]


def kustomize_application(source: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """What an Application's kustomize source renders, the way Argo CD builds it: in a copy of the
    sources, its patches appended to the path's kustomization and its images set with
    ``kustomize edit set image`` semantics."""
    kustomize_spec = source.get("kustomize") or {}
    path = source["path"]
    scope = DEPLOY_DIR if path.startswith(DEPLOY_DIR + "/") else path.split("/")[0]
    with tempfile.TemporaryDirectory(prefix="florai-application-") as tmp:
        shutil.copytree(root / scope, Path(tmp) / scope)
        folder = Path(tmp) / path
        (kustomization_file,) = [folder / n for n in KUSTOMIZATION_NAMES if (folder / n).is_file()]
        kustomization = yaml.safe_load(kustomization_file.read_text())
        if kustomize_spec.get("patches"):
            kustomization["patches"] = [*kustomization.get("patches", []), *kustomize_spec["patches"]]
        for spec in kustomize_spec.get("images", []):
            kustomization["images"] = set_image(kustomization.get("images", []), spec)
        kustomization_file.write_text(yaml.safe_dump(kustomization, sort_keys=False))
        return kustomize(folder)


def render_tree(
    tree: Path, env: str, cluster: appsets.Cluster | None = None, *, every_application: bool = False
) -> list[dict[str, Any]]:
    """Objects of ``env`` as its API Application syncs them from ``tree`` or, with every_application,
    as every Application whose path is under apps/deploy does (the API's overlay, the web UI's, the
    cluster-wide objects). The API's overlay alone where the tree has no argocd/ folder, as in refs
    from before the ApplicationSets carried patches."""
    if not (tree / names.GITOPS_ROOT_PATH).is_dir():
        return kustomize(overlay_dir(tree, env))
    if every_application:
        applications = appsets.deploy_applications(env, tree, cluster)
    else:
        applications = [appsets.overlay_application(env, tree, cluster)]
    return [obj for app in applications for obj in kustomize_application(app["spec"]["source"], tree)]


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def sort_objects(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=object_key)


@contextmanager
def checkout(ref: str, root: Path = REPO_ROOT) -> Iterator[Path | None]:
    """apps/deploy and argocd as of git ``ref`` in a temp dir (None when the ref has no deploy folder)."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "-d", "--name-only", ref, DEPLOY_DIR],
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        raise RenderError(f"git ref {ref!r} not found:\n{listed.stderr.strip()}")
    with tempfile.TemporaryDirectory(prefix="florai-manifests-") as tmp:
        if not listed.stdout.strip():
            yield None
            return
        folders = [DEPLOY_DIR]
        argocd = subprocess.run(
            ["git", "-C", str(root), "ls-tree", "-d", "--name-only", ref, names.GITOPS_ROOT_PATH],
            capture_output=True,
            text=True,
        )
        if argocd.stdout.strip():
            folders.append(names.GITOPS_ROOT_PATH)
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref, *folders], capture_output=True
        )
        if archive.returncode != 0:
            raise RenderError(f"git archive {ref} failed:\n{archive.stderr.decode().strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def render(
    env: str, ref: str | None = None, root: Path = REPO_ROOT, *, every_application: bool = False
) -> list[dict[str, Any]]:
    """Objects of one environment, sorted by kind/namespace/name, from the work tree or a git ref: the
    API's overlay, or with every_application all that Argo CD syncs from apps/deploy (the web UI too)."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}; choose from {ENVIRONMENTS}")
    if ref is None:
        return sort_objects(render_tree(root, env, every_application=every_application))
    with checkout(ref, root) as tree:
        if tree is None or not overlay_dir(tree, env).is_dir():
            return []
        return sort_objects(render_tree(tree, env, every_application=every_application))


@functools.cache
def rendered(env: str) -> tuple[dict[str, Any], ...]:
    """The work tree's render of ``env``'s API overlay, once per process (callers must not mutate it)."""
    return tuple(render(env))


@functools.cache
def rendered_everything(env: str) -> tuple[dict[str, Any], ...]:
    """All the work tree deploys to ``env`` from apps/deploy (API, web UI, cluster-wide), once per process."""
    return tuple(render(env, every_application=True))


def to_yaml(objects: Sequence[dict[str, Any]]) -> str:
    """Deterministic multi-document YAML: objects sorted by kind/namespace/name, keys sorted."""
    return yaml.safe_dump_all(sort_objects(objects), sort_keys=True, default_flow_style=False, width=1000)


def diff_text(env: str, base: Sequence[dict[str, Any]], head: Sequence[dict[str, Any]], base_ref: str) -> str:
    lines = difflib.unified_diff(
        to_yaml(base).splitlines(keepends=True),
        to_yaml(head).splitlines(keepends=True),
        fromfile=f"{base_ref}:{env}",
        tofile=f"worktree:{env}",
    )
    return "".join(lines)


def diff(base_ref: str, envs: Sequence[str] = ENVIRONMENTS, root: Path = REPO_ROOT) -> dict[str, str]:
    """Unified diff of the rendered YAML per environment, ``base_ref`` -> work tree ("" when equal)."""
    return {
        env: diff_text(
            env,
            render(env, base_ref, root, every_application=True),
            render(env, None, root, every_application=True),
            base_ref,
        )
        for env in envs
    }


def summary(objects: Sequence[dict[str, Any]]) -> str:
    kinds = Counter(obj["kind"] for obj in objects)
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))


def write_all(out_dir: Path, root: Path = REPO_ROOT) -> dict[str, list[dict[str, Any]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {}
    for env in ENVIRONMENTS:
        objects = render(env, root=root, every_application=True)
        (out_dir / f"{env}.yaml").write_text(to_yaml(objects))
        result[env] = objects
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="florai_gitops.manifests", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render_cmd = commands.add_parser("render", help="write .data/manifests/<env>.yaml for every environment")
    render_cmd.add_argument("--out", type=Path, default=REPO_ROOT / OUT_DIR)
    diff_cmd = commands.add_parser(
        "diff", help="rendered diff per environment between --base and the work tree"
    )
    diff_cmd.add_argument("--base", required=True, help="git ref to compare against, e.g. origin/main")
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            for env, objects in write_all(args.out, root=REPO_ROOT).items():
                print(f"{env}: {len(objects)} objects -> {args.out / (env + '.yaml')}")
                print(f"  {summary(objects)}")
        else:
            for env, text in diff(args.base, root=REPO_ROOT).items():
                print(f"=== {env} ===")
                print(text.rstrip("\n") if text else NO_CHANGES)
    except RenderError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
