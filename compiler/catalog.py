"""The catalog of components a spec may name.

It is the single source of truth the schema's enums, the semantic checks and
the renderer all read: a name cannot exist in one place and be missing in
another. Each entry says which fragment symbol implements it, its arguments
(with JSON Schema, default and description) and what it needs from others.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Arg:
    name: str
    schema: dict
    default: object
    description: str
    # When set, the rendered call lets a runtime value of this name (a flag
    # of the generated script) replace the spec's value, e.g. --crop-size.
    runtime_override: str | None = None


@dataclass(frozen=True)
class Component:
    name: str  # the name written in specs
    symbol: str  # the fragment callable that builds it
    description: str
    args: tuple[Arg, ...] = ()
    # backbones: how many feature maps forward() returns
    num_features: int = 0
    # models: arguments that, when true, add an auxiliary output
    aux_output_flags: tuple[str, ...] = ()
    # models: backbone families this head is known to work with
    backbones: tuple[str, ...] = ()
    # values the generated code supplies at run time, as (parameter, expression)
    runtime_args: tuple[tuple[str, str], ...] = ()
    extra: dict = field(default_factory=dict)

    def arg(self, name: str) -> Arg:
        return next(a for a in self.args if a.name == name)


INT = {"type": "integer"}
POS_INT = {"type": "integer", "minimum": 1}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
PROB = {"type": "number", "minimum": 0, "maximum": 1}
INT_LIST = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
SIZE = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2}
RGB = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}


def _resnet(depth: int) -> Component:
    return Component(
        name=f"ResNet{depth}_vd",
        symbol=f"ResNet{depth}_vd",
        description=f"ResNet-{depth} with the 'vd' stem and downsampling tweaks, dilated to the "
        "requested output stride (PaddleSeg's ResNet{depth}_vd).",
        num_features=4,
        args=(
            Arg("output_stride", {"enum": [8, 16, None]}, 8,
                "Ratio of input to feature-map size; 8 and 16 replace striding in the last "
                "stages by dilation, null keeps the classification stride of 32."),
            Arg("multi_grid", {"type": "array", "items": POS_INT, "minItems": 3, "maxItems": 3},
                [1, 1, 1], "Dilation multipliers of the three blocks of the last stage."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


def _hrnet(width: int) -> Component:
    return Component(
        name=f"HRNet_W{width}",
        symbol=f"HRNet_W{width}",
        description=f"HRNet with {width}-channel highest-resolution branch; returns the "
        "concatenation of all branches upsampled to 1/4 resolution.",
        num_features=1,
        args=(
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
            Arg("has_se", BOOL, False, "Add squeeze-and-excitation blocks."),
            Arg("padding_same", BOOL, True, "Use 'same' padding in convolutions."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


# every model is built as Model(num_classes=..., backbone=..., **spec arguments)
MODEL_RUNTIME_ARGS = (("num_classes", "num_classes"), ("backbone", "backbone"))

BACKBONES = {c.name: c for c in [
    _resnet(18), _resnet(34), _resnet(50), _resnet(101), _hrnet(18), _hrnet(48),
]}

MODELS = {c.name: c for c in [
    Component(
        name="PSPNet",
        symbol="PSPNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Pyramid Scene Parsing Network (Zhao et al., CVPR 2017): pyramid pooling "
        "over the last backbone stage, optional auxiliary head on the third.",
        aux_output_flags=("enable_auxiliary_loss",),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2},
        args=(
            Arg("backbone_indices", INT_LIST, [2, 3],
                "Backbone feature maps used: [auxiliary head input, main head input]."),
            Arg("pp_out_channels", POS_INT, 1024, "Channels after pyramid pooling."),
            Arg("bin_sizes", INT_LIST, [1, 2, 3, 6], "Output sizes of the pyramid's pooling."),
            Arg("enable_auxiliary_loss", BOOL, True,
                "Add the auxiliary head; training then returns two outputs."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
    Component(
        name="FCN",
        symbol="FCN",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Fully convolutional head (Long et al., CVPR 2015): ConvBNReLU and a 1x1 "
        "classifier over one backbone feature map.",
        extra={"num_backbone_indices": 1},
        args=(
            Arg("backbone_indices", INT_LIST, [-1], "Backbone feature map the head reads."),
            Arg("channels", {"type": ["integer", "null"], "minimum": 1}, None,
                "Channels of the head's hidden conv; null uses the feature map's channels."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
]}

LOSSES = {c.name: c for c in [
    Component(
        name="CrossEntropyLoss",
        symbol="CrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Pixel-wise softmax cross-entropy, averaged over pixels that are not "
        "the dataset's ignore value.",
        args=(
            Arg("weight", {"type": ["array", "null"], "items": NUM}, None,
                "Per-class weights, or null for equal weights."),
        ),
    ),
]}

TRANSFORMS = {c.name: c for c in [
    Component(
        name="ResizeStepScaling",
        symbol="ResizeStepScaling",
        description="Rescale image and label by a random factor from a stepped range.",
        args=(
            Arg("min_scale_factor", {"type": "number", "exclusiveMinimum": 0}, 0.75,
                "Smallest scale factor."),
            Arg("max_scale_factor", {"type": "number", "exclusiveMinimum": 0}, 1.25,
                "Largest scale factor."),
            Arg("scale_step_size", {"type": "number", "minimum": 0}, 0.25,
                "Step between candidate factors; 0 samples uniformly."),
        ),
    ),
    Component(
        name="RandomPaddingCrop",
        symbol="RandomPaddingCrop",
        description="Pad to at least the crop size, then crop a random window.",
        args=(
            Arg("crop_size", SIZE, [512, 512], "Crop [width, height] in pixels.",
                runtime_override="crop_size"),
            Arg("im_padding_value", NUM, 127.5, "Image padding value."),
            Arg("label_padding_value", {"type": "integer", "minimum": 0, "maximum": 255}, 255,
                "Label padding value (normally the ignore value)."),
        ),
    ),
    Component(
        name="RandomHorizontalFlip",
        symbol="RandomHorizontalFlip",
        description="Mirror image and label left-right with a probability.",
        args=(Arg("prob", PROB, 0.5, "Probability of flipping."),),
    ),
    Component(
        name="RandomDistort",
        symbol="RandomDistort",
        description="Random photometric jitter: brightness, contrast, saturation, hue.",
        args=(
            Arg("brightness_range", {"type": "number", "minimum": 0}, 0.5,
                "Brightness factor drawn from [1 - r, 1 + r]."),
            Arg("brightness_prob", PROB, 0.5, "Probability of brightness jitter."),
            Arg("contrast_range", {"type": "number", "minimum": 0}, 0.5,
                "Contrast factor drawn from [1 - r, 1 + r]."),
            Arg("contrast_prob", PROB, 0.5, "Probability of contrast jitter."),
            Arg("saturation_range", {"type": "number", "minimum": 0}, 0.5,
                "Saturation factor drawn from [1 - r, 1 + r]."),
            Arg("saturation_prob", PROB, 0.5, "Probability of saturation jitter."),
            Arg("hue_range", {"type": "number", "minimum": 0}, 18, "Hue shift drawn from [-r, r]."),
            Arg("hue_prob", PROB, 0.5, "Probability of hue jitter."),
        ),
    ),
    Component(
        name="Normalize",
        symbol="Normalize",
        description="Scale to [0, 1], subtract mean and divide by std per channel (RGB).",
        args=(
            Arg("mean", RGB, [0.5, 0.5, 0.5], "Per-channel mean on the [0, 1] scale."),
            Arg("std", RGB, [0.5, 0.5, 0.5], "Per-channel std on the [0, 1] scale."),
        ),
    ),
]}

OPTIMIZERS = {c.name: c for c in [
    Component(
        name="SGD",
        symbol="paddle.optimizer.Momentum",
        runtime_args=(("learning_rate", "lr_scheduler"), ("parameters", "model.parameters()")),
        description="Stochastic gradient descent with momentum and L2 weight decay.",
        args=(
            Arg("momentum", {"type": "number", "minimum": 0, "maximum": 1}, 0.9, "Momentum."),
            Arg("weight_decay", {"type": "number", "minimum": 0}, 4.0e-5,
                "L2 regularisation coefficient."),
        ),
    ),
]}

LR_SCHEDULERS = {c.name: c for c in [
    Component(
        name="PolynomialDecay",
        symbol="PolynomialLR",
        runtime_args=(("decay_steps", "iters"),),
        description="lr = (base - end) * (1 - iter / iters) ** power + end, after an optional "
        "linear warm-up.",
        args=(
            Arg("learning_rate", {"type": "number", "exclusiveMinimum": 0}, 0.01,
                "Base learning rate (train.py's --learning-rate overrides it).",
                runtime_override="learning_rate"),
            Arg("end_lr", {"type": "number", "minimum": 0}, 0.0, "Final learning rate."),
            Arg("power", {"type": "number", "exclusiveMinimum": 0}, 0.9, "Decay exponent."),
            Arg("warmup_iters", {"type": "integer", "minimum": 0}, 0,
                "Iterations of linear warm-up (0: none)."),
            Arg("warmup_start_lr", {"type": "number", "minimum": 0}, 0.0,
                "Learning rate at the start of warm-up."),
        ),
    ),
]}

DATASETS = {c.name: c for c in [
    Component(
        name="Cityscapes",
        symbol="CityscapesDataset",
        description="Cityscapes folder layout: leftImg8bit/<split>/<city>/*_leftImg8bit.png with "
        "gtFine/<split>/<city>/*_gtFine_labelTrainIds.png.",
    ),
    Component(
        name="FileList",
        symbol="FileListDataset",
        description="PaddleSeg file lists: one 'image_path label_path' per line, relative to root.",
    ),
]}

KINDS = {
    "backbone": BACKBONES,
    "model": MODELS,
    "loss": LOSSES,
    "transform": TRANSFORMS,
    "optimizer": OPTIMIZERS,
    "lr_scheduler": LR_SCHEDULERS,
    "dataset": DATASETS,
}


def defaults(component: Component) -> dict:
    return {a.name: a.default for a in component.args}
