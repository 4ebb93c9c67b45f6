"""GitOps tooling: render, validate and diff the Kubernetes manifests; promote images between overlays."""
