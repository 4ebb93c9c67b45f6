"""Resource options of stateful resources: protected outside dev, kept in AWS where data lives.

``protect`` makes `pulumi destroy` and any replacement stop with an error; ``retain_on_delete``
leaves the cloud resource (and its data) behind if Pulumi ever deletes it from the stack.
"""

from __future__ import annotations

import pulumi


def stateful(
    parent: pulumi.Resource, protect: bool, *, holds_data: bool, **options
) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(
        parent=parent, protect=protect, retain_on_delete=protect and holds_data, **options
    )
