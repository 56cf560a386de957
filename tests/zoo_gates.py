"""What gate discovery must find in each timm model attnviz offers: (kind, number of gates),
shared by the discovery tests (tests/gates/test_gates.py) and the capture tests
(tests/capture/test_capture.py)."""

# Expected from the architectures' papers: SE-ResNet-50 has 3+4+6+3 blocks, SENet-154 3+8+36+3,
# EfficientNet-B0 16 MBConv blocks, MobileNetV3-Large SE in 8 of its 15 bottlenecks,
# RegNetY-1.6GF depths 2+6+17+2, ResNeSt-14 one block per stage.

EXPECTED = {
    "legacy_seresnet50": ("se", 16), "seresnet50": ("se", 16), "seresnext50_32x4d": ("se", 16),
    "legacy_senet154": ("se", 50), "skresnet18": ("sk", 8), "skresnet34": ("sk", 16),
    "skresnext50_32x4d": ("sk", 16), "resnest50d": ("splat", 16), "efficientnet_b0": ("se", 16),
    "mobilenetv3_large_100": ("se", 8), "regnety_016": ("se", 27), "ecaresnet50d": ("eca", 16),
    "resnest14d": ("splat", 4),
}
