"""Conv + batch norm + ReLU as bare layers, and PaddleSeg's He-normal initialisation,
for the models (U-Net++, U-Net 3+) whose PaddleSeg checkpoints number each conv, batch
norm and ReLU inside an nn.Sequential (`conv.0.weight`, `conv.1._mean`, ...) instead of
naming them as layers/basic.py's ConvBNReLU does (`_conv`, `_batch_norm`).
"""

from paddle import nn


def conv_bn_relu_layers(in_channels, out_channels):
    """[3x3 conv with bias, batch norm, ReLU] as bare layers, to be put in an
    nn.Sequential."""
    return [
        nn.Conv2D(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm2D(out_channels),
        nn.ReLU(),
    ]


def kaiming_normal_conv_weights(model):
    """He-normal initial weights for every conv of `model`, as PaddleSeg initialises
    U-Net++ and U-Net 3+ (biases and batch norms keep Paddle's defaults)."""
    for layer in model.sublayers():
        if isinstance(layer, nn.Conv2D):
            nn.initializer.KaimingNormal()(layer.weight)
