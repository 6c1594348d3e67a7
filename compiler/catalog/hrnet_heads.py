"""OCRNet and HRNetW48Contrast: heads PaddleSeg's zoo runs on HRNet, and the pixel
contrast loss the latter trains with."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, POS_INT, PROB, Arg, Component, ExtraOutput

_ALIGN_CORNERS = Arg("align_corners", BOOL, False,
                     "align_corners of the final bilinear upsampling to the input size.")
_POS_NUM = {"type": "number", "exclusiveMinimum": 0}

MODELS = [
    Component(
        name="OCRNet",
        symbol="OCRNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Object-Contextual Representations (Yuan et al., ECCV 2020): soft object "
        "regions from an auxiliary classifier summarise the pixel features per class; each "
        "pixel attends over those region features and is classified from its own feature "
        "and the context. Training also returns the soft regions' logits, for their loss.",
        extra_outputs=(ExtraOutput("soft_object_regions"),),
        args=(
            Arg("backbone_indices", dict(INT_LIST, maxItems=2), [0],
                "Backbone feature maps read: one (both the soft regions and the pixel "
                "features read it) or two (soft regions from the first, pixel features "
                "from the second). PaddleSeg has no default; its HRNet configs use [0]."),
            Arg("ocr_mid_channels", POS_INT, 512,
                "Channels of the pixel features and of the object-contextual output."),
            Arg("ocr_key_channels", POS_INT, 256,
                "Channels of the pixel-to-region attention's queries, keys and values."),
            _ALIGN_CORNERS,
        ),
    ),
    Component(
        name="HRNetW48Contrast",
        symbol="HRNetW48Contrast",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="HRNet with a segmentation head and, in training only, a pixel embedding "
        "head for the pixel contrast loss (Wang et al., Exploring Cross-Image Pixel "
        "Contrast for Semantic Segmentation, ICCV 2021). Training also returns "
        "(embedding, logits) at 1/4 resolution, for PixelContrastCrossEntropyLoss.",
        extra_outputs=(ExtraOutput("pixel_contrast"),),
        backbones=("HRNet",),
        args=(
            Arg("bb_channels", {"type": ["integer", "null"], "minimum": 1}, None,
                "Channels of the backbone's feature map (720 for HRNet_W48); null reads "
                "them from the backbone. PaddleSeg requires the value; a wrong one is an "
                "error."),
            Arg("drop_prob", PROB, 0.1, "Channel dropout before the classifier."),
            Arg("proj_dim", POS_INT, 256, "Channels of the pixel embedding."),
            _ALIGN_CORNERS,
        ),
    ),
]

LOSSES = [
    Component(
        name="PixelContrastCrossEntropyLoss",
        symbol="PixelContrastCrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Supervised contrastive loss on pixel embeddings (Wang et al., ICCV "
        "2021): per image, classes covering more than max_views pixels give equally many "
        "sampled views (half misclassified, half correct); views of one class are pulled "
        "together, other classes' pushed apart, across the batch. Consumes an (embedding, "
        "logits) training output; samples with paddle's random generator.",
        args=(
            Arg("temperature", _POS_NUM, 0.1, "Temperature of the embedding similarities."),
            Arg("base_temperature", _POS_NUM, 0.07,
                "The loss is scaled by temperature / base_temperature."),
            Arg("max_samples", POS_INT, 1024,
                "Views sampled per batch at most, shared equally among the anchor classes."),
            Arg("max_views", POS_INT, 100,
                "Views per anchor class at most; a class needs more pixels than this in an "
                "image (at feature resolution) to be sampled there."),
        ),
    ),
]
