"""The charts of each page, per attention kind (assert on which charts, not on their looks)."""
from __future__ import annotations

from tiny import tiny

from attnviz.views.explore import ExploreOptions, explore_charts


def test_explore_charts_per_kind(sk_model, photos):
    from attnviz.analysis.inference import analyse_images

    analyses = analyse_images(sk_model, [p.image for p in photos], ["tench", "goldfish"])
    keys = [c.key for c in explore_charts(sk_model, analyses, ExploreOptions(block="SK_5_2"))]
    assert keys == ["mean_difference", "b_split_SK_5_2_tench", "b_split_SK_5_2_goldfish"]
    se = tiny("se_resnet18_half", size=64)
    keys = [c.key for c in explore_charts(se, analyse_images(se, [photos[0].image], ["tench"]))]
    assert keys == ["excitation_heatmap_tench", "excitation_distribution", "excitation_bars_SE_5_2"]
    splat = tiny("resnest_half", size=64)
    keys = [c.key for c in explore_charts(splat, analyse_images(splat, [photos[0].image], ["tench"]))]
    assert keys == ["split_balance", "split_weights_SPLAT_5_1_tench"]


def test_photo_notes_one_line_per_photo_led_by_its_name_as_literal_text():
    from attnviz.views.explore import photo_notes

    assert photo_notes([("goldfish", "The model does not know it.")], 1) == "The model does not know it."
    assert photo_notes([("goldfish", "A.")], 3) == "- **goldfish**: A."  # one of several photos: named
    text = photo_notes([("goldfish", "A."), ("![x](http://127.0.0.1:9/p.png).jpg", "B.")], 3)
    # every punctuation mark escaped, and a word joiner (U+2060) after "http:" so GFM makes no link
    assert text.splitlines() == ["- **goldfish**: A.",
                                 r"- **\!\[x\]\(http\:" + "\u2060" + r"\/\/127\.0\.0\.1\:9\/p\.png\)\.jpg**: B."]
