"""segc: compile declarative YAML segmentation specs into standalone PaddlePaddle scripts."""

__version__ = "0.1.0"
