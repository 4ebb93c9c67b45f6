"""GPU nodes: utilisation, memory, temperature, power and XID errors from the DCGM exporter."""

from __future__ import annotations

from florai_dashboards.panels import Query, graph, label_variable, new_dashboard, row

UID = "florai-gpu"
# DCGM exporter series (external: see alerts/external-metrics.yaml).
GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
FB_USED = "DCGM_FI_DEV_FB_USED"
FB_FREE = "DCGM_FI_DEV_FB_FREE"
GPU_TEMP = "DCGM_FI_DEV_GPU_TEMP"
POWER = "DCGM_FI_DEV_POWER_USAGE"
XID = "DCGM_FI_DEV_XID_ERRORS"
NODE = 'Hostname=~"$node"'
BY_GPU = "Hostname, gpu"


def build():
    return (
        new_dashboard(
            UID,
            "FlorAI / GPU nodes",
            "Health of the GPU node groups that run the inference services (NVIDIA DCGM exporter).",
            [label_variable("node", "Hostname", GPU_UTIL)],
        )
        .with_row(row("Load"))
        .with_panel(
            graph(
                "GPU utilisation",
                "Share of time a kernel was running on each GPU.",
                "percent",
                Query(f"avg by ({BY_GPU}) ({GPU_UTIL}{{{NODE}}})", "{{Hostname}} gpu {{gpu}}"),
            )
        )
        .with_panel(
            graph(
                "GPU memory used",
                "Framebuffer memory in use as a share of the total, per GPU.",
                "percentunit",
                Query(
                    f"sum by ({BY_GPU}) ({FB_USED}{{{NODE}}}) / "
                    f"(sum by ({BY_GPU}) ({FB_USED}{{{NODE}}}) + sum by ({BY_GPU}) ({FB_FREE}{{{NODE}}}))",
                    "{{Hostname}} gpu {{gpu}}",
                ),
            )
        )
        .with_row(row("Health"))
        .with_panel(
            graph(
                "GPU temperature",
                "Core temperature of each GPU.",
                "celsius",
                Query(f"max by ({BY_GPU}) ({GPU_TEMP}{{{NODE}}})", "{{Hostname}} gpu {{gpu}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "GPU power draw",
                "Power drawn by each GPU.",
                "watt",
                Query(f"sum by ({BY_GPU}) ({POWER}{{{NODE}}})", "{{Hostname}} gpu {{gpu}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Last XID error",
                "Code of the last XID error each GPU reported (0: none); see NVIDIA's XID catalogue.",
                "none",
                Query(f"max by ({BY_GPU}) ({XID}{{{NODE}}})", "{{Hostname}} gpu {{gpu}}"),
                width=8,
            )
        )
    )
