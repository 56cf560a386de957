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


def _empty_profile(loaded):
    """A profile of ``loaded``'s gates with no images: only its gates matter to the pointer below."""
    import numpy as np

    from attnviz.profiles.profile import Profile

    zeros = {g.name: np.zeros((1, 10, g.paths, g.channels)) for g in loaded.gates}
    return Profile(model=loaded.name, class_names=loaded.class_names, gates=loaded.gates, scales=[1.0],
                   count=np.zeros((1, 10), dtype=np.int64), means=zeros, m2=zeros,
                   hists={g.name: np.zeros((1, 10, g.paths, 4), dtype=np.int64) for g in loaded.gates},
                   bin_edges=np.linspace(0, 1, 5), top1_correct=np.zeros((1, 10), dtype=np.int64))


def test_compare_page_without_se_gates_points_each_kind_to_its_paper_question():
    from attnviz.views.compare import paper_comparison

    none = "The SENet paper's *role of excitation* is about SE gates; this model has none."
    sk = paper_comparison(_empty_profile(tiny("sk_resnet18_half", size=64)), [0, 1])
    assert sk == none + " For SK units, the paper's question is how the kernel choice moves with the object's " \
                        "size: see the Scale experiment page."
    splat = paper_comparison(_empty_profile(tiny("resnest_half", size=64)), [0, 1])
    assert splat.startswith(none + " For split-attention units, the Scale experiment page")
    assert "kernel" not in splat    # ResNeSt's splits are one kernel's groups


def test_the_pointer_joins_its_sentences_as_the_language_writes_them():
    from attnviz.i18n import language
    from attnviz.views.compare import paper_comparison

    with language("zh"):
        text = paper_comparison(_empty_profile(tiny("sk_resnet18_half", size=64)), [0, 1])
    assert "SE 门控。对于 SK 单元" in text      # no space after a full-width stop
