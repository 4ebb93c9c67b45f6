"""The offline cluster-generator selector agrees with Kubernetes label-selector semantics."""

from __future__ import annotations

import pytest

from florai_gitops.appsets import Cluster, applications, render, selector_matches

LABELS = {"environment": "prod", "enable_gpu": "true"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, True),
        ({"matchLabels": {"environment": "prod"}}, True),
        ({"matchLabels": {"environment": "dev"}}, False),
        (
            {"matchExpressions": [{"key": "environment", "operator": "In", "values": ["dev", "staging"]}]},
            False,
        ),
        ({"matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["dev"]}]}, True),
        ({"matchExpressions": [{"key": "enable_gpu", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "enable_keda", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "enable_keda", "operator": "In", "values": ["true"]}]}, False),
    ],
)
def test_selector(selector, expected):
    assert selector_matches(selector, LABELS) is expected


def test_unknown_operator_is_an_error():
    with pytest.raises(ValueError, match="Gt"):
        selector_matches({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, LABELS)


def test_matrix_and_unknown_placeholders():
    cluster = Cluster("c", "https://kubernetes.default.svc", LABELS, {"x": "1"})
    appset = {
        "metadata": {"name": "s"},
        "spec": {
            "generators": [
                {
                    "matrix": {
                        "generators": [
                            {"clusters": {"selector": {"matchLabels": {"enable_gpu": "true"}}}},
                            {"list": {"elements": [{"c": "a"}, {"c": "b"}]}},
                        ]
                    }
                }
            ],
            "template": {
                "metadata": {"name": "{{c}}-{{metadata.labels.environment}}"},
                "spec": {"x": "{{nope}}"},
            },
        },
    }
    apps = applications(appset, cluster)
    assert [a["metadata"]["name"] for a in apps] == ["a-prod", "b-prod"]
    assert render("{{ nope }}/{{metadata.annotations.x}}", cluster.params()) == "{{ nope }}/1"
