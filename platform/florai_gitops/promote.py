"""Promote the images of an environment by changing one line per image of its overlay.

An environment is the folder apps/deploy/overlays/<env>; what runs there are the ``images:`` entries
of its kustomization.yaml: ``florai`` (the CPU build) and ``florai-cuda`` (the same commit built with
TORCH_VARIANT=cuda, for the GPU services). The registry is not in git: Argo CD sets it from the GitOps
bridge (``ecr_repository_url``). A promotion rewrites only the reference line of an entry (``digest:``
or ``newTag:``), leaves every other byte of the file alone, prints the diff and, with ``--commit``,
commits the one file with a conventional message.

    python -m florai_gitops.promote --env dev --image <repository>@sha256:<64 hex> \
        --image florai-cuda=<repository>@sha256:<64 hex> [--commit]
    python -m florai_gitops.promote --env dev --tag 1f2e3d4 [--commit]     # florai only
    python -m florai_gitops.promote --from staging --to prod [--commit]   # every image
    python -m florai_gitops.promote --env prod --show          # one line per image: <name>@<digest>
    python -m florai_gitops.promote --env dev --show-repository  # the ECR repository name (no registry)
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from florai_infra import names

REPO_ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = Path("apps/deploy/overlays")
KUSTOMIZATION = "kustomization.yaml"
# The kustomize image names the workloads use; every overlay pins both (one entry each in `images:`).
CPU_IMAGE = "florai"
CUDA_IMAGE = "florai-cuda"
IMAGE_NAMES = (CPU_IMAGE, CUDA_IMAGE)
IMAGE_NAME = CPU_IMAGE
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
    if name not in IMAGE_NAMES:
        raise PromotionError(f"unknown image name {name!r}; the overlays pin {', '.join(IMAGE_NAMES)}")
    repository, sep, digest = rest.partition("@")
    if not sep or not repository:
        raise PromotionError(f"--image wants [<name>=]<repository>@sha256:<digest>, got {image!r}")
    return name, repository, ImageRef.digest(digest)


def repository_matches(repository: str, env: str) -> bool:
    """The pushed repository is the stack's ECR repository (any registry host: the bridge knows it)."""
    host, _, path = repository.partition("/")
    return host.endswith(".amazonaws.com") and path == names.image_repository(env)


@dataclass(frozen=True)
class Overlay:
    env: str
    path: Path  # the kustomization.yaml

    @classmethod
    def find(cls, root: Path, env: str) -> Overlay:
        path = root / OVERLAYS / env / KUSTOMIZATION
        if not path.is_file():
            known = sorted(p.parent.name for p in (root / OVERLAYS).glob(f"*/{KUSTOMIZATION}"))
            raise PromotionError(f"no overlay for environment {env!r} ({path} missing); known: {known}")
        return cls(env, path)

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
        """Every pinned image of IMAGE_NAMES present in the overlay."""
        data = yaml.safe_load(self.text()) or {}
        present = {str(e.get("name")) for e in data.get("images") or []}
        return {name: self.current(name) for name in IMAGE_NAMES if name in present}

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


def promote(
    root: Path,
    env: str,
    ref: ImageRef | dict[str, ImageRef],
    *,
    repository: str | None = None,
    source_env: str | None = None,
    commit: bool = False,
) -> str:
    """Write the image references into the env overlay; return the diff ('' when already there)."""
    refs = ref if isinstance(ref, dict) else {IMAGE_NAME: ref}
    overlay = Overlay.find(root, env)
    if repository is not None and not repository_matches(repository, env):
        raise PromotionError(
            f"{env} runs from ECR repository {names.image_repository(env)!r}, not {repository!r}: "
            "copy the image there first"
        )
    before = overlay.text()
    after = before
    for name, one_ref in refs.items():
        after = set_ref(after, one_ref, name)
    if after == before:
        return ""
    overlay.path.write_bytes(after.encode("utf-8"))
    rel = overlay.path.relative_to(root).as_posix()
    if commit:
        git = ["git", "-C", str(root)]
        subprocess.run([*git, "add", "--", rel], check=True)
        subprocess.run(
            [*git, "commit", "-q", "-m", commit_message(env, refs, source_env), "--", rel], check=True
        )
    return unified_diff(rel, before, after)


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
        help="[<name>=]<repository>@sha256:<digest> (name florai by default; repeat for florai-cuda); "
        "the repository must be the stack's ECR repository",
    )
    what.add_argument("--digest", help="sha256:<digest>")
    what.add_argument("--tag", help="an immutable tag (never 'latest')")
    what.add_argument("--show", action="store_true", help="print what --env runs and exit")
    what.add_argument(
        "--show-repository", action="store_true", help="print the ECR repository name of --env and exit"
    )
    parser.add_argument("--from", dest="source", help="copy the exact image reference of this environment...")
    parser.add_argument("--to", dest="target", help="...into this one")
    parser.add_argument(
        "--commit", action="store_true", help="commit the one changed file (conventional message)"
    )
    args = parser.parse_args(argv)
    try:
        if args.source or args.target:
            if not (args.source and args.target) or args.env or args.image or args.digest or args.tag:
                raise PromotionError("--from and --to go together, without --env/--image/--digest/--tag")
            source = Overlay.find(args.root, args.source)
            env, refs, repository, source_env = args.target, source.images(), None, args.source
        elif args.env and (args.show or args.show_repository):
            overlay = Overlay.find(args.root, args.env)
            if args.show_repository:
                print(names.image_repository(args.env))
            else:
                print("\n".join(f"{name}{ref.render()}" for name, ref in overlay.images().items()))
            return 0
        elif args.env and (args.image or args.digest or args.tag):
            source_env, repository = None, None
            if args.image:
                parsed = [parse_image(image) for image in args.image]
                refs = {name: ref for name, _, ref in parsed}
                repositories = {repo for _, repo, _ in parsed}
                if len(repositories) != 1 or len(refs) != len(parsed):
                    raise PromotionError("--image: one repository, each image name once")
                (repository,) = repositories
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
