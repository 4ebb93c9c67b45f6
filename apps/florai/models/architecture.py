"""A compact MobileNetV2-class network in plain torch (inverted residuals, depthwise convolutions).

``forward`` returns ``(logits, feature_map)``: the last feature map is an output of the exported
graph, so Grad-CAM can take the gradient of a class score with respect to it after loading.
Weights are initialised from a seeded NumPy generator (integer-exact uniform draws), so the same
seed gives bit-identical weights on every machine.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

# (expansion, output channels at width 1.0, repeats, first stride): MobileNetV2's table.
INVERTED_RESIDUAL_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
# Channels of the last feature map (Grad-CAM's target layer); kept small to keep the artifact small.
FEATURE_CHANNELS = 1024
CHANNEL_DIVISOR = 8


def scaled_channels(channels: int, width: float) -> int:
    """Channels at ``width``, rounded to a multiple of 8 (never down by more than 10%)."""
    scaled = max(
        CHANNEL_DIVISOR, int(channels * width + CHANNEL_DIVISOR / 2) // CHANNEL_DIVISOR * CHANNEL_DIVISOR
    )
    return scaled + CHANNEL_DIVISOR if scaled < 0.9 * channels * width else scaled


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """1x1 expand -> 3x3 depthwise -> 1x1 linear projection, with a skip when shapes allow."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_ch * expansion
        self.use_skip = stride == 1 and in_ch == out_ch
        layers: list[nn.Module] = [] if expansion == 1 else [conv_bn_relu(in_ch, hidden, kernel=1)]
        layers += [
            conv_bn_relu(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_skip else self.block(x)


class FlorNet(nn.Module):
    """MobileNetV2-style classifier returning ``(logits [N, C], feature map [N, F, h, w])``."""

    def __init__(self, num_classes: int, width: float = 0.5) -> None:
        super().__init__()
        channels = scaled_channels(STEM_CHANNELS, width)
        layers: list[nn.Module] = [conv_bn_relu(3, channels, stride=2)]
        for expansion, out, repeats, stride in INVERTED_RESIDUAL_SETTINGS:
            out_ch = scaled_channels(out, width)
            for i in range(repeats):
                layers.append(InvertedResidual(channels, out_ch, stride if i == 0 else 1, expansion))
                channels = out_ch
        layers.append(conv_bn_relu(channels, FEATURE_CHANNELS, kernel=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(FEATURE_CHANNELS, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_map = self.features(x)
        return self.classifier(feature_map.mean(dim=(2, 3))), feature_map


def _uniform(rng: np.random.Generator, shape: torch.Size, bound: float) -> torch.Tensor:
    return torch.from_numpy(rng.uniform(-bound, bound, size=tuple(shape)).astype(np.float32))


def initialise_weights(model: nn.Module, seed: int) -> None:
    """He-uniform convolutions, LeCun-uniform classifier, identity batch norms, zero biases."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(_uniform(rng, module.weight.shape, math.sqrt(6.0 / fan_in)))
            elif isinstance(module, nn.Linear):
                bound = math.sqrt(3.0 / module.in_features)
                module.weight.copy_(_uniform(rng, module.weight.shape, bound))
                module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
