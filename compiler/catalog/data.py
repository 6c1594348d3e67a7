"""Datasets and data transforms."""

from __future__ import annotations

from .types import MAX_SIDE, NUM, PROB, RGB, SIZE, Arg, Component, Requirement

# Training batches samples, so every training sample must leave the transforms at one size.
ONE_SIZE = Requirement("fixed_size", "training batches samples, so the training transforms "
                       "must give every image one size")

# RandomDistort's four photometric jitters (PortraitNet's RandomDistortSharpness adds a fifth).
DISTORT_ARGS = (
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
)

TRANSFORMS = [
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
        provides=("fixed_size",),
        args=(
            Arg("crop_size", SIZE, [512, 512], "Crop [width, height] in pixels.",
                runtime_override="crop_size"),
            Arg("im_padding_value", NUM, 127.5, "Image padding value."),
            Arg("label_padding_value", {"type": "integer", "minimum": 0, "maximum": 255}, 255,
                "Label padding value (normally the ignore value; train.py's --ignore-index "
                "replaces it, so that padding stays ignored).", runtime_override="ignore_index"),
        ),
    ),
    Component(
        name="Resize",
        symbol="Resize",
        description="Resize image (bilinear by default) and label (nearest) to a fixed size, "
        "ignoring the aspect ratio, as PaddleSeg's Resize with keep_ratio false.",
        provides=("fixed_size",),
        args=(
            Arg("target_size", SIZE, [512, 512], "Size after resizing, [width, height].",
                runtime_override="crop_size"),
            Arg("interp", {"enum": ["NEAREST", "LINEAR", "CUBIC", "AREA", "LANCZOS4"]}, "LINEAR",
                "Interpolation of the image (the label always uses NEAREST)."),
        ),
    ),
    Component(
        name="ResizeByShort",
        symbol="ResizeByShort",
        description="Scale image (bilinear) and label (nearest) so that the shorter side has "
        "a given length, keeping the aspect ratio (PaddleSeg's ResizeByShort; its max_size "
        "is not offered). For evaluation: the logits are resized back to the label's size.",
        args=(
            Arg("short_size", {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}, 512,
                "Length of the shorter side after resizing, in pixels."),
        ),
    ),
    Component(
        name="Padding",
        symbol="Padding",
        provides=("fixed_size",),
        description="Pad bottom/right to a fixed size (image grey, label the ignore value); "
        "an image larger than the target is an error. For evaluation at one input size: "
        "metrics over the padded label equal those over the original, and infer.py crops "
        "predictions back.",
        args=(
            Arg("target_size", SIZE, [2049, 1025],
                "Size after padding, [width, height]; PaddleSeg has no default, this is its "
                "Cityscapes 769x769 recipe's."),
            Arg("im_padding_value", NUM, 127.5,
                "Image padding value (0-255 scale); a fractional value turns the image to "
                "float32, so Padding belongs after transforms that need uint8."),
            Arg("label_padding_value", {"type": "integer", "minimum": 0, "maximum": 255}, 255,
                "Label padding value (normally the ignore value; train.py's --ignore-index "
                "replaces it, so that padding stays ignored).", runtime_override="ignore_index"),
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
        args=DISTORT_ARGS,
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
]


CITYSCAPES_CLASS_NAMES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)

# ADE20K's 150 classes in class-id order (the SceneParsing benchmark's objectInfo150, one name
# each), after the zero-label reduction: id 0 is the wall, the unlabelled 0 is ignored.
ADE20K_CLASS_NAMES = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain",
    "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field",
    "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub", "railing",
    "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink",
    "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case",
    "pool table", "pillow", "screen door", "stairway", "river", "bridge", "bookcase", "blind",
    "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove", "palm",
    "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus",
    "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth",
    "television receiver", "airplane", "dirt track", "apparel", "pole", "land", "bannister",
    "escalator", "ottoman", "bottle", "buffet", "poster", "stage", "van", "ship", "fountain",
    "conveyer belt", "canopy", "washer", "plaything", "swimming pool", "stool", "barrel", "basket",
    "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food", "step", "tank",
    "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen",
    "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan",
    "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator", "glass",
    "clock", "flag",
)

# IDD's 26 level-3 classes in level3Id order (the AutoNUE 2021 challenge's; IDD's
# anue_labels.py), which PaddleSeg's contrib AutoNue dataset trains on.
IDD_LEVEL3_CLASS_NAMES = (
    "road", "drivable fallback", "sidewalk", "non-drivable fallback", "person", "rider",
    "motorcycle", "bicycle", "autorickshaw", "car", "truck", "bus", "vehicle fallback", "curb",
    "wall", "fence", "guard rail", "billboard", "traffic sign", "traffic light", "pole",
    "obs-str-bar-fallback", "building", "bridge", "vegetation", "sky",
)

# A dataset's `extra["class_names"]`: its classes' names in class-id order, which the
# resolver gives a spec's dataset that names none itself (evaluate.py reports by them).
# A dataset is not built by a rendered call: `load_dataset` (data/datasets) reads the
# spec's `dataset` section and, by its type, lists the samples with the function named
# here, which then feed one SegDataset class.
DATASETS = [
    Component(
        name="Cityscapes",
        symbol="cityscapes_samples",
        requires=(ONE_SIZE,),
        description="Cityscapes folder layout: leftImg8bit/<split>/<city>/*_leftImg8bit.png with "
        "gtFine/<split>/<city>/*_gtFine_labelTrainIds.png.",
        # the 19 evaluated classes in train-id order (cityscapesScripts' labels.py)
        extra={"class_names": CITYSCAPES_CLASS_NAMES},
    ),
    Component(
        name="ADE20K",
        symbol="ade20k_samples",
        requires=(ONE_SIZE,),
        description="ADE20K (PaddleSeg's ADE20K, the ADEChallengeData2016 folder): "
        "images/<training|validation>/*.jpg with annotations/<training|validation>/*.png of "
        "the same name; label 0 (unlabelled) is ignored and classes 1..150 become 0..149.",
        extra={"class_names": ADE20K_CLASS_NAMES},
    ),
    Component(
        name="AutoNue",
        symbol="autonue_samples",
        requires=(ONE_SIZE,),
        description="IDD (India Driving Dataset) as PaddleSeg's contrib AutoNue dataset reads "
        "it: leftImg8bit/<split>/<folder>/*_leftImg8bit.<ext> with "
        "gtFine/<split>/<folder>/*_gtFine_labellevel3Ids.png (26 level-3 classes, 255 "
        "ignored; IDD's createLabels.py writes them).",
        extra={"class_names": IDD_LEVEL3_CLASS_NAMES},
    ),
    Component(
        name="FileList",
        symbol="file_list_samples",
        requires=(ONE_SIZE,),
        description="PaddleSeg file lists: one 'image_path label_path' per line, relative to root.",
    ),
]
