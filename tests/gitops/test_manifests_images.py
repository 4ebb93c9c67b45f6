"""GPU services run the CUDA image, the rest the CPU image, both pinned by digest (issue 16, finding 8)."""

from __future__ import annotations

import pytest

from florai import contract
from florai_gitops import manifests, promote

ENVS = manifests.ENVIRONMENTS
GPU_LIMIT = "nvidia.com/gpu"


def pinned(env: str) -> dict[str, str]:
    """kustomize image name -> the digest the overlay pins."""
    overlay = promote.Overlay.find(manifests.REPO_ROOT, env)
    return {name: overlay.current(name).value for name in promote.API.images}


@pytest.mark.parametrize("env", ENVS)
def test_both_images_are_pinned_by_digest(env):
    digests = pinned(env)
    assert set(digests) == {promote.CPU_IMAGE, promote.CUDA_IMAGE}
    for name in digests:
        assert promote.Overlay.find(manifests.REPO_ROOT, env).current(name).key == "digest", name
    assert digests[promote.CPU_IMAGE] != digests[promote.CUDA_IMAGE]


@pytest.mark.parametrize("env", ENVS)
def test_cuda_image_exactly_where_the_pod_gets_a_gpu_and_asks_for_cuda(env):
    by_digest = {digest: name for name, digest in pinned(env).items()}
    workloads = [o for o in manifests.rendered(env) if o["kind"] in ("Deployment", "Rollout")]
    seen = set()
    for w in workloads:
        (container,) = w["spec"]["template"]["spec"]["containers"]
        image = by_digest[container["image"].rpartition("@")[2]]
        seen.add(image)
        device = {e["name"]: e.get("value") for e in container["env"]}.get("FLORAI_DEVICE", "cpu")
        has_gpu = GPU_LIMIT in container["resources"].get("limits", {})
        on_cuda = image == promote.CUDA_IMAGE
        assert on_cuda == (device == "cuda") == has_gpu, (w["metadata"]["name"], image, device)
    gpu_services = {f"florai-{s.name}" for s in contract.SERVICES if s.gpu}
    gpu_labelled = {
        w["metadata"]["name"]
        for w in workloads
        if w["metadata"].get("labels", {}).get("florai.io/accelerator") == "gpu"
    }
    assert gpu_labelled == gpu_services
    # Dev runs the GPU services on CPU; staging and prod on the GPU nodes with the CUDA image.
    assert seen == ({promote.CPU_IMAGE} if env == "dev" else {promote.CPU_IMAGE, promote.CUDA_IMAGE})


@pytest.mark.parametrize("env", ENVS)
def test_the_registry_override_keeps_the_pinned_digests(env):
    """Argo CD runs `kustomize edit set image` for the bridge's registry; the render emulates it."""
    images = {
        c["image"]
        for o in manifests.rendered(env)
        if o["kind"] in ("Deployment", "Rollout")
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    assert {i.rpartition("@")[2] for i in images} <= set(pinned(env).values())
    assert all("@sha256:" in i for i in images)


def test_edit_set_image_replaces_the_entry_unless_a_field_is_kept():
    entries = [{"name": "florai", "digest": "sha256:" + "a" * 64}]
    assert manifests.set_image(entries, "florai=r.example/x") == [
        {"name": "florai", "newName": "r.example/x"}
    ]
    assert manifests.set_image(entries, "florai=r.example/x@*") == [
        {"name": "florai", "newName": "r.example/x", "digest": "sha256:" + "a" * 64}
    ]
    assert manifests.split_image("reg:5000/a/b:1.2@sha256:ff") == ("reg:5000/a/b", "1.2", "sha256:ff")
