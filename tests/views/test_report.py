"""The report to hand out: one self-contained HTML file that opens offline."""
from __future__ import annotations

import re

from tiny import tiny

from attnviz.analysis.inference import analyse_images
from attnviz.views.report import explore_report


def test_report_is_one_offline_file_with_every_chart_and_its_numbers(photos):
    loaded = tiny("se_resnet18_half", size=64)
    images = [p.image for p in photos]
    analyses = analyse_images(loaded, images, [p.name for p in photos])
    page = explore_report(loaded, [(p.name, p.display, a, None) for p, a in zip(photos, analyses, strict=True)])
    assert page.startswith("<!DOCTYPE html>") and page.count("<section>") == 4  # heatmaps x2, distribution, bars
    assert page.count('id="plotly-gz"') == 1 and "Plotly.newPlot" in page  # plotly.js inlined once, packed
    # Nothing is fetched from elsewhere: no external script, image or stylesheet (outside the inlined
    # plotly.js, whose source mentions map-tile attributions as text).
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""<(script|img|link)[^>]+(src|href)=["']https?://""", page)
    assert not re.search(r"""(src|href)=["']https?://""", markup)
    assert page.count("data:image/jpeg;base64,") == len(photos)
    assert page.count("The numbers behind this chart") == 4 and "tench" in page
    assert len(page.encode()) < 3_000_000


def test_compare_report_in_chinese_holds_the_papers_finding_and_every_chart(photos):
    from attnviz.i18n import language
    from attnviz.profiles.builder import profile_images
    from attnviz.views import compare
    from attnviz.views.report import compare_report

    loaded = tiny("se_resnet18_half", size=64)
    images = [p.image for p in photos] * 2
    profile = profile_images(loaded, images, [0, 1, 0, 1], ["tench", "goldfish"])
    options = compare.CompareOptions(blocks=[g.name for g in loaded.gates[-3:]], classes=[0, 1])
    with language("zh"):
        page = compare_report(loaded, profile, options, "4 张图像")
        charts = compare.compare_charts(profile, options)
    assert '<html lang="zh"' in page and "4 张图像" in page
    assert page.count("<section>") == len(charts) >= 2
    assert "<b>" in page and "**" not in page.split("<script")[0]  # the page's markdown, as HTML
    assert "论文" in page and page.count('id="plotly-gz"') == 1
