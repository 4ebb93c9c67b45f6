"""FlorAI CrossGuard pack: `pulumi preview --policy-pack platform/policy-pack` runs these policies.

The checks live in florai_infra.policies, shared with the offline `make preview`.
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The pack runs from this folder; florai_infra sits beside it in platform/ (installed or not).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from florai_infra.policies.crossguard import PACK_NAME, pack_policies  # noqa: E402

PolicyPack(name=PACK_NAME, policies=pack_policies())
