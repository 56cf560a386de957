"""Page "Compare models": the session's photos through two or three models, side by side: each
model's top-5, then every model's attention on one relative-depth axis."""
from __future__ import annotations

from functools import partial
import streamlit as st

from attnviz.errors import AttnvizError
from attnviz.i18n import _, ngettext
from attnviz.analysis.model_comparison import MAX_MODELS, MIN_MODELS, comparison_from_analyses
from attnviz.serving.models import RANDOM, ModelRequest, ServedModel
from attnviz.views import models as views
from attnviz.app.render import analyse, guard, images_ready, pick_image, show_chart, show_charts, show_image
from attnviz.app.sidebar import picker_choices
from attnviz.app.state import Context, analysis_cache, current_context, served_model
from attnviz.models.zoo import bundled_dir, bundled_models


def page(ctx: Context) -> None:
    st.header(_("Compare models"))
    st.caption(_("The same photos through two or three models: what each predicts, and how its attention "
                 "changes from the first gate to the last. Models of different depth are lined up by "
                 "relative depth: 0 is a model's first gate, 1 its last."))
    choices = picker_choices(str(bundled_dir()))
    random_ok = st.checkbox(_("Also offer the models whose weights are not on this server, with random weights "
                              "(architecture only)"), key="models_random")
    offered = [c for c in choices if c.available_offline or random_ok]
    labels = {c.name: c.label if c.available_offline else _("{model} (random weights)").format(model=c.label)
              for c in offered}
    hidden = len(choices) - len(offered)
    default = default_models(ctx, [c.name for c in offered])
    help_text = ngettext("Bundled models work offline. {n} timm model (⊘) is not offered: its ImageNet weights "
                         "are not on this server.",
                         "Bundled models work offline. {n} timm models (⊘) are not offered: their ImageNet "
                         "weights are not on this server.", hidden).format(n=hidden) if hidden else \
        _("Bundled models work offline.")
    names = st.multiselect(_("Models ({min} or {max}; bundled ones first)").format(min=MIN_MODELS, max=MAX_MODELS),
                           list(labels), default=default, max_selections=MAX_MODELS, format_func=labels.__getitem__,
                           key="models_chosen", help=help_text,
                           placeholder=_("Choose models"))
    if len(names) < MIN_MODELS:
        st.info(_("Choose {min} or {max} models to compare.").format(min=MIN_MODELS, max=MAX_MODELS))
        return
    if not images_ready(ctx.images):
        return
    served = load_chosen(names, {c.name: c.available_offline for c in choices})
    if len(served) < MIN_MODELS:
        return

    # Each model's analyses come from the shared cache; only photos every model could analyse are compared.
    analysed = [dict((im.digest, (im, a)) for im, a in analyse(analysis_cache(), m, ctx.images)) for m in served]
    common = [d for d in analysed[0] if all(d in other for other in analysed[1:])]
    if not common:
        return
    comparison = comparison_from_analyses([m.loaded for m in served],
                                          [[per_model[d][1] for d in common] for per_model in analysed])
    images = [analysed[0][d][0] for d in common]
    untrained = [m.loaded.name for m in served if m.untrained]
    if untrained:
        st.warning(_("Untrained (random weights): {models}. Their lines show the architecture, "
                     "not learned attention.").format(models=", ".join(untrained)), icon=":material/science:")

    st.subheader(_("What each model predicts"))
    st.caption(views.agreement(comparison))
    image = pick_image(images, key="models_image")
    if image is None:  # not ready: pick_image has said why
        return
    i = images.index(image)
    cols = st.columns([1] + [2] * len(served))
    with cols[0]:
        show_image(image)
    for col, model, summary in zip(cols[1:], served, comparison.models, strict=True):
        with col:
            show_chart(views.top_chart(summary, i, image.name), model.untrained, key_prefix="models_")

    st.subheader(_("Attention by relative depth"))
    show_charts(views.comparison_charts(comparison), bool(untrained), key_prefix="models_")
    if not comparison.correlations:
        st.caption(views.correlation_note(comparison))


def load_chosen(names: list[str], available: dict[str, bool]) -> list[ServedModel]:
    """The chosen models (random weights for those whose weights are not here); one that cannot be
    loaded, or has no gate, is named and the others go on."""
    served = []
    for name in names:
        request = ModelRequest(name) if available[name] else ModelRequest(name, RANDOM)
        try:
            served.append(served_model(request))
        except AttnvizError as exc:
            st.warning(_("**{name}** could not be loaded: {error}").format(name=name, error=exc),
                       icon=":material/cloud_off:")
    for model in served:
        if not model.loaded.gates:
            st.info(_("**{name}** has no attention gate that attnviz recognises; its line is empty.").format(
                name=model.loaded.name))
    return served


def default_models(ctx: Context, offered: list[str]) -> list[str]:
    """The sidebar's model and a bundled model of another architecture (SE beside SK), else the
    next bundled or offered one."""
    bundled = bundled_models()
    first = ctx.loaded.name if ctx.loaded.name in offered else offered[0]
    arch = bundled[first].arch if first in bundled else None
    others = [n for n in offered if n != first]
    second = next((n for n in others if n in bundled and bundled[n].arch != arch), None) or \
        next((n for n in others if n in bundled), None) or next(iter(others), None)
    return [first] + ([second] if second else [])


# A page script: Streamlit runs this file for the page (``app.py`` registers it); imported
# anywhere else, there is no context and it draws nothing.
if (ctx := current_context()) is not None:
    guard(partial(page, ctx))  # partial binds the narrowed ctx; a lambda would re-read the Optional global
