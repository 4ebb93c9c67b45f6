"""Promote the images of an environment by changing one line per image of its overlays.

Two things are deployed per environment, each from its own overlay folder and ECR repository
(``DEPLOYABLES``): the API (apps/deploy/overlays/<env>: ``florai``, the CPU build, and ``florai-cuda``,
the same commit built with TORCH_VARIANT=cuda for the GPU services) and the web UI
(apps/deploy/ui/overlays/<env>: ``florai-ui``). What runs there are the ``images:`` entries of each
kustomization.yaml. The registry is not in git: Argo CD sets it from the GitOps bridge
(``ecr_repository_url``, ``ui_ecr_repository_url``). A promotion rewrites only the reference line of
an entry (``digest:`` or ``newTag:``), leaves every other byte of the files alone, prints the diff and,
with ``--commit``, commits the changed files in one commit with a conventional message.

    python -m florai_gitops.promote --env dev --image <repository>@sha256:<64 hex> \
        --image florai-cuda=<repository>@sha256:<64 hex> \
        --image florai-ui=<ui repository>@sha256:<64 hex> [--commit]
    python -m florai_gitops.promote --env dev --tag 1f2e3d4 [--commit]     # florai only
    python -m florai_gitops.promote --from staging --to prod [--commit]   # every image of every overlay
    python -m florai_gitops.promote --env prod --show          # one line per image: <name>@<digest>
    python -m florai_gitops.promote --env dev --show-repository [IMAGE]  # its ECR repository (no registry)
    python -m florai_gitops.promote --from dev --to staging --show-copies  # what to copy between registries
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from florai_infra import names

REPO_ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZATION = "kustomization.yaml"
# The kustomize image names the workloads use; each overlay pins its own (one entry each in `images:`).
CPU_IMAGE = "florai"
CUDA_IMAGE = "florai-cuda"
UI_IMAGE = "florai-ui"


@dataclass(frozen=True)
class Deployable:
    """One thing Argo CD deploys per environment: its overlay folders, the image names they pin and the
    ECR repository the program creates for it (what CI pushes to and promotion copies into)."""

    name: str
    overlays: Path  # <overlays>/<env>/kustomization.yaml
    images: tuple[str, ...]
    repository: Callable[[str], str]  # environment -> repository name (florai_infra.names)
    bridge_annotation: str  # the cluster-Secret annotation Argo CD takes the registry from


API = Deployable(
    "api",
    Path("apps/deploy/overlays"),
    (CPU_IMAGE, CUDA_IMAGE),
    names.image_repository,
    names.BRIDGE_ECR_REPOSITORY_URL,
)
UI = Deployable(
    "ui",
    Path("apps/deploy/ui/overlays"),
    (UI_IMAGE,),
    names.ui_image_repository,
    names.BRIDGE_UI_ECR_REPOSITORY_URL,
)
DEPLOYABLES = (API, UI)
OVERLAYS = API.overlays
IMAGE_NAMES = tuple(image for d in DEPLOYABLES for image in d.images)
IMAGE_NAME = CPU_IMAGE


def deployable_of(image_name: str) -> Deployable:
    for deployable in DEPLOYABLES:
        if image_name in deployable.images:
            return deployable
    raise PromotionError(f"unknown image name {image_name!r}; the overlays pin {', '.join(IMAGE_NAMES)}")


DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Docker's tag grammar.
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
REF_KEYS = ("digest", "newTag")


class PromotionError(Exception):
    """A promotion that must not happen; the message says why in one line."""


@dataclass(frozen=True)
class ImageRef:
    """What an overlay pins: a digest (preferred) or a tag."""

    key: str  # "digest" or "newTag"
    value: str

    @classmethod
    def digest(cls, value: str) -> ImageRef:
        if not DIGEST.match(value):
            raise PromotionError(f"not an image digest: {value!r} (expected sha256:<64 lowercase hex>)")
        return cls("digest", value)

    @classmethod
    def tag(cls, value: str) -> ImageRef:
        if value.lower() == "latest":
            raise PromotionError("refusing tag 'latest': pin an immutable tag or a digest")
        if not TAG.match(value):
            raise PromotionError(f"not a valid image tag: {value!r}")
        return cls("newTag", value)

    def render(self) -> str:
        return f"@{self.value}" if self.key == "digest" else f":{self.value}"


def parse_image(image: str) -> tuple[str, str, ImageRef]:
    """``[<name>=]<repository>@sha256:...`` -> (image name, repository, digest); no tags here, on purpose."""
    name, sep, rest = image.partition("=")
    if not sep:
        name, rest = IMAGE_NAME, image
    deployable_of(name)
    repository, sep, digest = rest.partition("@")
    if not sep or not repository:
        raise PromotionError(f"--image wants [<name>=]<repository>@sha256:<digest>, got {image!r}")
    return name, repository, ImageRef.digest(digest)


def repository_matches(repository: str, env: str, deployable: Deployable = API) -> bool:
    """The pushed repository is the stack's ECR repository (any registry host: the bridge knows it)."""
    host, _, path = repository.partition("/")
    return host.endswith(".amazonaws.com") and path == deployable.repository(env)


@dataclass(frozen=True)
class Overlay:
    env: str
    path: Path  # the kustomization.yaml
    deployable: Deployable = API

    @classmethod
    def find(cls, root: Path, env: str, deployable: Deployable = API) -> Overlay:
        path = root / deployable.overlays / env / KUSTOMIZATION
        if not path.is_file():
            known = sorted(p.parent.name for p in (root / deployable.overlays).glob(f"*/{KUSTOMIZATION}"))
            raise PromotionError(f"no overlay for environment {env!r} ({path} missing); known: {known}")
        return cls(env, path, deployable)

    @classmethod
    def all(cls, root: Path, env: str) -> list[Overlay]:
        """The environment's overlay of every deployable that has an overlays folder under root."""
        overlays = [cls.find(root, env, d) for d in DEPLOYABLES if (root / d.overlays).is_dir()]
        if not overlays:
            raise PromotionError(f"no overlays under {root}: expected {API.overlays}/{env}/{KUSTOMIZATION}")
        return overlays

    def text(self) -> str:
        return self.path.read_bytes().decode("utf-8")

    def entry(self, image_name: str = IMAGE_NAME) -> dict[str, str]:
        data = yaml.safe_load(self.text()) or {}
        found = [e for e in data.get("images") or [] if e.get("name") == image_name]
        if len(found) != 1:
            raise PromotionError(
                f"{self.path}: expected one images entry named {image_name!r}, found {len(found)}"
            )
        return {k: str(v) for k, v in found[0].items()}

    def images(self) -> dict[str, ImageRef]:
        """Every pinned image of the deployable present in the overlay."""
        data = yaml.safe_load(self.text()) or {}
        present = {str(e.get("name")) for e in data.get("images") or []}
        return {name: self.current(name) for name in self.deployable.images if name in present}

    def current(self, image_name: str = IMAGE_NAME) -> ImageRef:
        entry = self.entry(image_name)
        for key in REF_KEYS:
            if key in entry:
                return ImageRef(key, entry[key])
        raise PromotionError(f"{self.path}: images entry {image_name!r} pins neither a digest nor a tag")


KEY_LINE = re.compile(r"^(?P<prefix>\s*(?:-\s+)?)(?P<key>[A-Za-z]+):\s*(?P<value>.*?)\s*$")


def _image_items(lines: list[str]) -> list[list[tuple[int, str, str, str]]]:
    """The ``images:`` list items as [(line index, prefix, key, value)], from the text itself."""
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^images:\s*(#.*)?$", line.rstrip("\r\n"))), None
    )
    if start is None:
        raise PromotionError("the kustomization has no top-level images: block")
    items: list[list[tuple[int, str, str, str]]] = []
    for i in range(start + 1, len(lines)):
        text = lines[i].rstrip("\r\n")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if not text[0].isspace() and not text.startswith("-"):
            break  # the next top-level key
        m = KEY_LINE.match(text)
        if m is None:
            continue
        if "-" in m.group("prefix"):
            items.append([])
        if items:
            items[-1].append((i, m.group("prefix"), m.group("key"), m.group("value").strip("'\"")))
    return items


def set_ref(text: str, ref: ImageRef, image_name: str = IMAGE_NAME) -> str:
    """The kustomization text with the entry's reference line replaced (or added): one line changes."""
    lines = text.splitlines(keepends=True)
    found = [it for it in _image_items(lines) if any(k == "name" and v == image_name for _, _, k, v in it)]
    if len(found) != 1:
        raise PromotionError(f"expected one images entry named {image_name!r}, found {len(found)}")
    item = found[0]
    present = {key: (i, prefix) for i, prefix, key, _ in item if key in REF_KEYS}
    if len(present) == 2 and ref.key == "newTag":
        raise PromotionError("the entry pins a digest and a tag; set the digest (--image/--digest) instead")
    last = item[-1][0]
    eol = "\r\n" if lines[last].endswith("\r\n") else "\n"
    target = present.get(ref.key) or present.get("digest") or present.get("newTag")
    if target is None:
        indent = " " * len(item[0][1])  # the column of the entry's keys
        if not lines[last].endswith("\n"):
            lines[last] += eol  # a file without a final newline gains one
        lines.insert(last + 1, f"{indent}{ref.key}: {ref.value}{eol}")
    else:
        index, prefix = target
        lines[index] = f"{prefix}{ref.key}: {ref.value}{eol}"
    return "".join(lines)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )


def describe(refs: dict[str, ImageRef]) -> str:
    return ", ".join(f"{name}{ref.render()}" for name, ref in refs.items())


def commit_message(env: str, refs: dict[str, ImageRef], source_env: str | None) -> str:
    origin = f" from {source_env}" if source_env else ""
    return f"chore(deploy): promote {env} to {describe(refs)}{origin}"


def environment_images(root: Path, env: str) -> dict[str, ImageRef]:
    """Every image an environment runs, across its overlays, in DEPLOYABLES order."""
    return {name: ref for overlay in Overlay.all(root, env) for name, ref in overlay.images().items()}


def copies(root: Path, source: str, target: str) -> list[tuple[str, str, str]]:
    """What a promotion copies between the two stacks' registries, one per image of the source:
    (image name, ``<source repository>@<digest>``, target repository); registries are the caller's."""
    if source == target:
        raise PromotionError(f"--from and --to are both {source!r}")
    result = []
    for name, ref in environment_images(root, source).items():
        deployable = deployable_of(name)
        Overlay.find(root, target, deployable)
        if ref.key != "digest":
            raise PromotionError(f"{source} pins {name} by tag ({ref.value}); promote digests only")
        result.append((name, f"{deployable.repository(source)}{ref.render()}", deployable.repository(target)))
    return result


def promote(
    root: Path,
    env: str,
    ref: ImageRef | dict[str, ImageRef],
    *,
    repository: str | dict[str, str] | None = None,
    source_env: str | None = None,
    commit: bool = False,
) -> str:
    """Write the image references into the env's overlays; return the diff ('' when already there).

    ``repository``: where the images were pushed (one for all, or per image name); each must be the
    stack's repository for that image's deployable.
    """
    refs = ref if isinstance(ref, dict) else {IMAGE_NAME: ref}
    by_deployable: dict[Deployable, dict[str, ImageRef]] = {}
    for name, one_ref in refs.items():
        by_deployable.setdefault(deployable_of(name), {})[name] = one_ref
    pushed = repository if isinstance(repository, dict) else dict.fromkeys(refs, repository)
    for name in refs:
        deployable = deployable_of(name)
        where = pushed.get(name)
        if where is not None and not repository_matches(where, env, deployable):
            raise PromotionError(
                f"{env} runs {name} from ECR repository {deployable.repository(env)!r}, not {where!r}: "
                "copy the image there first"
            )
    changes: list[tuple[Overlay, str, str]] = []
    for deployable, its_refs in by_deployable.items():
        overlay = Overlay.find(root, env, deployable)
        before = overlay.text()
        after = before
        for name, one_ref in its_refs.items():
            after = set_ref(after, one_ref, name)
        if after != before:
            changes.append((overlay, before, after))
    if not changes:
        return ""
    paths = []
    for overlay, _, after in changes:
        overlay.path.write_bytes(after.encode("utf-8"))
        paths.append(overlay.path.relative_to(root).as_posix())
    if commit:
        git = ["git", "-C", str(root)]
        subprocess.run([*git, "add", "--", *paths], check=True)
        subprocess.run(
            [*git, "commit", "-q", "-m", commit_message(env, refs, source_env), "--", *paths], check=True
        )
    return "".join(
        unified_diff(path, before, after) for path, (_, before, after) in zip(paths, changes, strict=True)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m florai_gitops.promote", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="repository root (default: this checkout)"
    )
    parser.add_argument("--env", help="target environment (apps/deploy/overlays/<env>)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--image",
        action="append",
        help="[<name>=]<repository>@sha256:<digest> (name florai by default; repeat for florai-cuda and "
        "florai-ui); the repository must be the stack's ECR repository of that image",
    )
    what.add_argument("--digest", help="sha256:<digest>")
    what.add_argument("--tag", help="an immutable tag (never 'latest')")
    what.add_argument("--show", action="store_true", help="print what --env runs and exit")
    what.add_argument(
        "--show-repository",
        nargs="?",
        const=IMAGE_NAME,
        metavar="IMAGE",
        help=f"print the ECR repository name of --env for IMAGE (default {IMAGE_NAME}) and exit",
    )
    parser.add_argument("--from", dest="source", help="copy the exact image reference of this environment...")
    parser.add_argument("--to", dest="target", help="...into this one")
    parser.add_argument(
        "--show-copies",
        action="store_true",
        help="with --from/--to: print '<image> <source repository>@<digest> <target repository>' per image",
    )
    parser.add_argument(
        "--commit",
        action="store_true",
        help="commit the changed overlays in one commit (conventional message)",
    )
    args = parser.parse_args(argv)
    try:
        if args.source or args.target:
            if not (args.source and args.target) or args.env or args.image or args.digest or args.tag:
                raise PromotionError("--from and --to go together, without --env/--image/--digest/--tag")
            if args.show_copies:
                for line in copies(args.root, args.source, args.target):
                    print(" ".join(line))
                return 0
            refs = environment_images(args.root, args.source)
            env, repository, source_env = args.target, None, args.source
        elif args.env and (args.show or args.show_repository):
            if args.show_repository:
                Overlay.find(args.root, args.env, deployable_of(args.show_repository))
                print(deployable_of(args.show_repository).repository(args.env))
            else:
                images = environment_images(args.root, args.env)
                print("\n".join(f"{name}{ref.render()}" for name, ref in images.items()))
            return 0
        elif args.env and (args.image or args.digest or args.tag):
            source_env, repository = None, None
            if args.image:
                parsed = [parse_image(image) for image in args.image]
                refs = {name: ref for name, _, ref in parsed}
                repository = {name: repo for name, repo, _ in parsed}
                if len(refs) != len(parsed):
                    raise PromotionError("--image: each image name once")
                by_deployable = {}
                for name, repo, _ in parsed:
                    by_deployable.setdefault(deployable_of(name), set()).add(repo)
                if any(len(repos) != 1 for repos in by_deployable.values()):
                    raise PromotionError(
                        "--image: the images of one deployable come from one repository "
                        f"({'; '.join(d.name + ': ' + ', '.join(d.images) for d in DEPLOYABLES)})"
                    )
            else:
                refs = {IMAGE_NAME: ImageRef.digest(args.digest) if args.digest else ImageRef.tag(args.tag)}
            env = args.env
        else:
            raise PromotionError("give --env with --image/--digest/--tag/--show, or --from and --to")
        diff = promote(args.root, env, refs, repository=repository, source_env=source_env, commit=args.commit)
    except PromotionError as err:
        print(f"promote: {err}", file=sys.stderr)
        return 2
    print(
        diff if diff else f"{env} already runs {describe(refs)}: nothing to change",
        end="\n" * (not diff),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
