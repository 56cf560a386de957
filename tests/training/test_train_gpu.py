"""Training against a time budget from packed data (attnviz.training.train_gpu), checked on the CPU: the
augmentation against torch's and torchvision's own definitions, the packed file against PIL."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image

from attnviz.models.architectures import build_architecture
from attnviz.training.train_gpu import (BudgetPlan, adjust_colours, crop_boxes, lr_factor, pack_folder, read_packed,
                               resample)
from imagenette_kit import WNIDS, image_folder


def test_an_identity_box_is_torchs_bilinear_resize():
    images = torch.randint(0, 256, (2, 3, 20, 20), dtype=torch.uint8)
    theta = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]).repeat(2, 1, 1)
    got = resample(images, theta, 12)
    want = F.interpolate(images.float() / 255, size=(12, 12), mode="bilinear", align_corners=False)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_a_quarter_box_is_that_quarter_of_the_pixels():
    images = torch.randint(0, 256, (1, 3, 8, 8), dtype=torch.uint8)
    top_left = torch.tensor([[[0.5, 0, -0.5], [0, 0.5, -0.5]]])
    torch.testing.assert_close(resample(images, top_left, 4), images[:, :, :4, :4].float() / 255, atol=1e-5, rtol=0)


def test_a_flipped_box_mirrors_the_crop():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    flipped = crop_boxes(4, (1.0, 1.0), (1.0, 1.0), 1.0, g, torch.device("cpu"))
    plain = flipped.clone()
    plain[:, 0, 0] *= -1
    torch.testing.assert_close(resample(images, flipped, 16), resample(images, plain, 16).flip(-1))
    torch.testing.assert_close(resample(images, plain, 16), images.float() / 255, atol=1e-5, rtol=0)


def test_crop_boxes_have_the_asked_areas_and_stay_inside():
    g = torch.Generator().manual_seed(1)
    theta = crop_boxes(4000, (0.35, 1.0), (3 / 4, 4 / 3), 0.5, g, torch.device("cpu"))
    w, h = theta[:, 0, 0].abs(), theta[:, 1, 1]
    assert (theta[:, 0, 0].abs() + theta[:, 0, 2].abs() <= 1 + 1e-6).all()
    assert (h + theta[:, 1, 2].abs() <= 1 + 1e-6).all()
    area = w * h
    assert area.max() <= 1 + 1e-6 and area.min() >= 0.35 * 0.86 - 1e-6  # clipping trims at most 1 - sqrt(3/4)
    unclipped = (w < 1) & (h < 1)
    assert ((area[unclipped] >= 0.35 - 1e-5) & (area[unclipped] <= 1)).all()
    assert 0.45 < (theta[:, 0, 0] < 0).float().mean() < 0.55  # flipped half the time


def test_colour_factors_follow_torchvisions_definitions():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 10, 10)
    factors = torch.tensor([[0.8, 1.2, 1.0], [1.1, 0.9, 1.2], [0.85, 1.15, 0.8]])
    want = torch.stack([TF.adjust_saturation(TF.adjust_contrast(TF.adjust_brightness(x[i], factors[0, i]),
                                                                factors[1, i]), factors[2, i]) for i in range(3)])
    torch.testing.assert_close(adjust_colours(x, factors), want, atol=1e-5, rtol=0)


def test_the_learning_rate_warms_up_and_ends_at_zero():
    assert lr_factor(0.0, 0.1) < 0.02 and lr_factor(0.05, 0.1) == pytest.approx(0.51, abs=0.01)
    assert lr_factor(0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1) == pytest.approx(0.5)
    assert lr_factor(1.0, 0.1) == pytest.approx(0.0) and lr_factor(1.5, 0.1) == pytest.approx(0.0)


def test_budget_shares():
    assert BudgetPlan(["a", "b"], 90).budgets() == [45, 45]
    assert BudgetPlan(["a", "b"], 90, [1, 2]).budgets() == [30, 60]
    with pytest.raises(ValueError, match="2 architectures but 1 shares"):
        BudgetPlan(["a", "b"], 90, [1]).budgets()


def test_a_packed_split_decodes_to_the_resized_images(tmp_path):
    split = image_folder(tmp_path / "train")
    info = pack_folder(split, tmp_path / "train.npz", size=24, quality=90, extra_info={"val_images": 7})
    assert info["images"] == 6 and info["val_images"] == 7 and info["size"] == 24
    data = read_packed(tmp_path / "train.npz")
    assert data.images.shape == (6, 3, 24, 24) and data.images.dtype == torch.uint8
    assert data.class_folders == WNIDS and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    with Image.open(split / WNIDS[1] / "2.png") as im:
        want = np.asarray(im.convert("RGB").resize((24, 24), Image.BILINEAR, reducing_gap=None)).astype(float)
    got = data.images[5].permute(1, 2, 0).numpy().astype(float)
    assert np.abs(got - want).mean() < 4  # WebP q90 on a smooth image: a few levels of 255


def test_a_missing_packed_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="prepare_data.py"):
        read_packed(tmp_path / "nope.npz")


def test_an_empty_folder_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="has no class subfolders"):
        pack_folder(tmp_path, tmp_path / "x.npz")


@pytest.mark.parametrize("arch", ["se_resnet18_5of8", "sk_resnet18_5of8", "se_resnet26_5of8", "sk_resnet26_5of8"])
def test_the_stronger_architectures_fit_16_mib_in_fp16(arch):
    model = build_architecture(arch, 10)
    tensors = sum(v.numel() * (2 if v.is_floating_point() else v.element_size()) for v in model.state_dict().values())
    assert tensors < 16 * 2**20 - 64 * 1024  # leaves room for the safetensors header


def test_sk_paths_see_every_input_channel():
    from timm.layers.selective_kernel import SelectiveKernel

    model = build_architecture("sk_resnet18_5of8", 10)
    sk = next(m for m in model.modules() if isinstance(m, SelectiveKernel))
    assert not sk.split_input
    # The first unit's input is timm's 64-channel stem (its 7x7 stem is 64 wide at any stage width).
    assert [path.conv.in_channels for path in sk.paths] == [model.conv1.out_channels] * 2 == [64, 64]
